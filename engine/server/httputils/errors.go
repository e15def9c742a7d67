package httputils

import (
	"context"
	"errors"
	"net/http"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// StatusFromError is the one place where an error class becomes an HTTP
// status, in the order moby's httpstatus.FromError checks them. An error
// without a class is a fault of the server: 500.
func StatusFromError(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errdefs.IsNotFound(err):
		return http.StatusNotFound
	case errdefs.IsInvalidParameter(err):
		return http.StatusBadRequest
	case errdefs.IsConflict(err):
		return http.StatusConflict
	case errdefs.IsUnauthorized(err):
		return http.StatusUnauthorized
	case errdefs.IsUnavailable(err):
		return http.StatusServiceUnavailable
	case errdefs.IsForbidden(err):
		return http.StatusForbidden
	case errdefs.IsNotImplemented(err):
		return http.StatusNotImplemented
	case errdefs.IsSystem(err), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusInternalServerError
	default:
		return http.StatusInternalServerError
	}
}

// ErrorResponse is the body of every error the engine API returns.
type ErrorResponse struct {
	Message string `json:"message"`
}

// WriteError writes err as dockerd does: {"message": "..."} with the status of
// its class. Handlers return errors; only the server (and a streaming handler
// that has not written its header yet) calls this.
func WriteError(w http.ResponseWriter, err error) {
	_ = WriteJSON(w, StatusFromError(err), ErrorResponse{Message: err.Error()})
}
