// Package container serves the container routes of the Engine API
// (/containers/...) over a Backend, the container service.
package container

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/containerd/platforms"
	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/router"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

type containerRouter struct {
	backend Backend
}

// New returns the container router over backend.
func New(backend Backend) router.Router { return &containerRouter{backend: backend} }

// Routes lists literal paths before the {name:.*} patterns that would also
// match them.
func (cr *containerRouter) Routes() []router.Route {
	return []router.Route{
		router.NewGetRoute("/containers/json", cr.getContainersJSON),
		router.NewGetRoute("/containers/{name:.*}/json", cr.getContainersByName),
		router.NewPostRoute("/containers/create", cr.postContainersCreate),
		router.NewPostRoute("/containers/prune", cr.postContainersPrune),
		router.NewPostRoute("/commit", cr.postCommit),
		router.NewPostRoute("/containers/{name:.*}/rename", cr.postContainerRename),
		router.NewPostRoute("/containers/{name:.*}/update", cr.postContainersUpdate),
		router.NewPostRoute("/containers/{name:.*}/start", cr.postContainersStart),
		router.NewPostRoute("/containers/{name:.*}/stop", cr.postContainersStop),
		router.NewPostRoute("/containers/{name:.*}/restart", cr.postContainersRestart),
		router.NewPostRoute("/containers/{name:.*}/kill", cr.postContainersKill),
		router.NewPostRoute("/containers/{name:.*}/pause", cr.postContainersPause),
		router.NewPostRoute("/containers/{name:.*}/unpause", cr.postContainersUnpause),
		router.NewPostRoute("/containers/{name:.*}/wait", cr.postContainersWait),
		router.NewPostRoute("/containers/{name:.*}/resize", cr.postContainersResize),
		router.NewPostRoute("/containers/{name:.*}/attach", cr.postContainersAttach),
		router.NewGetRoute("/containers/{name:.*}/attach/ws", cr.wsContainersAttach),
		router.NewGetRoute("/containers/{name:.*}/logs", cr.getContainersLogs),
		router.NewGetRoute("/containers/{name:.*}/top", cr.getContainersTop),
		router.NewGetRoute("/containers/{name:.*}/stats", cr.getContainersStats),
		router.NewHeadRoute("/containers/{name:.*}/archive", cr.headContainersArchive),
		router.NewGetRoute("/containers/{name:.*}/archive", cr.getContainersArchive),
		router.NewPutRoute("/containers/{name:.*}/archive", cr.putContainersArchive),
		router.NewGetRoute("/containers/{name:.*}/changes", cr.getContainersChanges),
		router.NewGetRoute("/containers/{name:.*}/export", cr.getContainersExport),
		router.NewDeleteRoute("/containers/{name:.*}", cr.deleteContainers),
	}
}

func (cr *containerRouter) getContainersJSON(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	f, err := filters.FromJSON(r.Form.Get("filters"))
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	o := container.ListOptions{All: httputils.BoolValue(r, "all"), Size: httputils.BoolValue(r, "size"), Filters: f}
	if v := r.Form.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		o.Limit = n
	}
	list, err := cr.backend.List(ctx, o)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, list)
}

func (cr *containerRouter) getContainersByName(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	resp, err := cr.backend.Inspect(ctx, vars["name"], httputils.BoolValue(r, "size"))
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, resp)
}

func (cr *containerRouter) postContainersCreate(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	var req containertypes.CreateRequest
	if err := httputils.ReadJSON(r, &req); err != nil {
		return err
	}
	if req.Config == nil {
		return errdefs.InvalidParameter(errors.New("Config cannot be empty in order to create a container"))
	}
	p := container.CreateParams{Name: r.Form.Get("name"), Config: req.Config, HostConfig: req.HostConfig, Networking: req.NetworkingConfig}
	if v := r.Form.Get("platform"); v != "" {
		pl, err := platforms.Parse(v)
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		p.Platform = &pl
	}
	resp, err := cr.backend.Create(ctx, p)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusCreated, resp)
}

func (cr *containerRouter) deleteContainers(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	if httputils.BoolValue(r, "link") {
		return errdefs.InvalidParameter(errors.New("Conflict, cannot remove the default link name of the container"))
	}
	err := cr.backend.Remove(ctx, vars["name"], container.RemoveOptions{
		Force: httputils.BoolValue(r, "force"), RemoveVolumes: httputils.BoolValue(r, "v"),
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) postContainerRename(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	if err := cr.backend.Rename(ctx, vars["name"], r.Form.Get("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) postContainersPrune(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	f, err := filters.FromJSON(r.Form.Get("filters"))
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	rep, err := cr.backend.Prune(ctx, f)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, rep)
}

func (cr *containerRouter) postContainersStart(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	err := cr.backend.Start(ctx, vars["name"])
	if container.IsNotModified(err) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
