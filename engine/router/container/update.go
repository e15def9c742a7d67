package container

import (
	"context"
	"net/http"

	containertypes "github.com/docker/docker/api/types/container"

	"github.com/wharf-project/wharf/engine/server/httputils"
)

// UpdateBackend is what docker update needs.
type UpdateBackend interface {
	Update(ctx context.Context, name string, u containertypes.UpdateConfig) (containertypes.UpdateResponse, error)
}

func (cr *containerRouter) postContainersUpdate(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	var u containertypes.UpdateConfig
	if err := httputils.ReadJSON(r, &u); err != nil {
		return err
	}
	resp, err := cr.backend.Update(ctx, vars["name"], u)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, resp)
}
