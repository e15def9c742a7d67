// Package exec serves the exec routes of the Engine API: an exec is made
// on a container (POST /containers/{name}/exec), started once with its
// streams over the hijacked connection (POST /exec/{id}/start), resized,
// and inspected for its exit code (GET /exec/{id}/json).
package exec

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/docker/docker/api/types/common"
	containertypes "github.com/docker/docker/api/types/container"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/router"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

// Backend is what the exec routes need (*container.Service has it).
type Backend interface {
	ExecCreate(ctx context.Context, name string, o containertypes.ExecOptions) (string, error)
	ExecStart(ctx context.Context, id string, o container.ExecStartConfig) error
	ExecInspect(ctx context.Context, id string) (*container.ExecInspect, error)
	ExecResize(ctx context.Context, id string, height, width uint) error
}

type execRouter struct {
	backend Backend
}

// New returns the exec router over backend.
func New(backend Backend) router.Router { return &execRouter{backend: backend} }

func (er *execRouter) Routes() []router.Route {
	return []router.Route{
		router.NewPostRoute("/containers/{name:.*}/exec", er.postContainerExecCreate),
		router.NewPostRoute("/exec/{name:.*}/start", er.postContainerExecStart),
		router.NewPostRoute("/exec/{name:.*}/resize", er.postContainerExecResize),
		router.NewGetRoute("/exec/{id:.*}/json", er.getExecByID),
	}
}

func (er *execRouter) postContainerExecCreate(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	var o containertypes.ExecOptions
	if err := httputils.ReadJSON(r, &o); err != nil {
		return err
	}
	id, err := er.backend.ExecCreate(ctx, vars["name"], o)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusCreated, common.IDResponse{ID: id})
}

// postContainerExecStart runs the exec detached (200, no body) or on the
// hijacked connection; an error once the stream has begun is written into
// it by the backend.
func (er *execRouter) postContainerExecStart(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	var o containertypes.ExecStartOptions
	if err := httputils.ReadJSON(r, &o); err != nil {
		return err
	}
	var hj *httputils.Hijacked
	defer func() {
		if hj != nil {
			hj.Close()
		}
	}()
	err := er.backend.ExecStart(ctx, vars["name"], container.ExecStartConfig{
		Detach: o.Detach, ConsoleSize: o.ConsoleSize,
		Open: func(tty bool) (container.AttachStreams, error) {
			h, err := httputils.Hijack(w, r, tty)
			if err != nil {
				return container.AttachStreams{}, err
			}
			hj = h
			return container.AttachStreams{Stdin: h.Stdin, Stdout: h.Stdout, Stderr: h.Stderr}, nil
		},
	})
	if hj != nil {
		return nil
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (er *execRouter) postContainerExecResize(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	h, err := strconv.ParseUint(r.Form.Get("h"), 10, 32)
	if err != nil {
		return errdefs.InvalidParameter(errors.New("invalid height: " + r.Form.Get("h")))
	}
	wd, err := strconv.ParseUint(r.Form.Get("w"), 10, 32)
	if err != nil {
		return errdefs.InvalidParameter(errors.New("invalid width: " + r.Form.Get("w")))
	}
	if err := er.backend.ExecResize(ctx, vars["name"], uint(h), uint(wd)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (er *execRouter) getExecByID(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	e, err := er.backend.ExecInspect(ctx, vars["id"])
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, e)
}

var _ Backend = (*container.Service)(nil)
