// Package volume serves the volume routes of the Engine API (/volumes/...)
// over a Backend, the volume store.
package volume

import (
	"context"
	"net/http"

	"github.com/docker/docker/api/types/filters"
	volumetypes "github.com/docker/docker/api/types/volume"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/router"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

type volumeRouter struct {
	backend Backend
}

// New returns the volume router over backend.
func New(backend Backend) router.Router { return &volumeRouter{backend: backend} }

// Routes lists literal paths before the {name:.*} patterns.
func (v *volumeRouter) Routes() []router.Route {
	return []router.Route{
		router.NewGetRoute("/volumes", v.getVolumesList),
		router.NewGetRoute("/volumes/{name:.*}", v.getVolumeByName),
		router.NewPostRoute("/volumes/create", v.postVolumesCreate),
		router.NewPostRoute("/volumes/prune", v.postVolumesPrune),
		router.NewDeleteRoute("/volumes/{name:.*}", v.deleteVolumes),
	}
}

func formFilters(r *http.Request) (filters.Args, error) {
	if err := httputils.ParseForm(r); err != nil {
		return filters.Args{}, err
	}
	f, err := filters.FromJSON(r.Form.Get("filters"))
	if err != nil {
		return filters.Args{}, errdefs.InvalidParameter(err)
	}
	return f, nil
}

func (v *volumeRouter) getVolumesList(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := formFilters(r)
	if err != nil {
		return err
	}
	vols, warnings, err := v.backend.List(ctx, f)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, &volumetypes.ListResponse{Volumes: vols, Warnings: warnings})
}

func (v *volumeRouter) getVolumeByName(ctx context.Context, w http.ResponseWriter, _ *http.Request, vars map[string]string) error {
	vol, err := v.backend.Get(ctx, vars["name"])
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, vol)
}

func (v *volumeRouter) postVolumesCreate(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var req volumetypes.CreateOptions
	if err := httputils.ReadJSON(r, &req); err != nil {
		return err
	}
	if req.ClusterVolumeSpec != nil {
		return errdefs.InvalidParameter(errNoSwarm)
	}
	vol, err := v.backend.Create(ctx, req.Name, req.Driver, req.DriverOpts, req.Labels)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusCreated, vol)
}

func (v *volumeRouter) deleteVolumes(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	if err := v.backend.Remove(ctx, vars["name"], httputils.BoolValue(r, "force")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (v *volumeRouter) postVolumesPrune(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := formFilters(r)
	if err != nil {
		return err
	}
	rep, err := v.backend.Prune(ctx, f)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, rep)
}

type swarmError struct{}

func (swarmError) Error() string {
	return "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again."
}

var errNoSwarm error = swarmError{}
