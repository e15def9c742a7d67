// Package network serves the network routes of the Engine API
// (/networks/...) over a Backend, the network service.
package network

import (
	"context"
	"errors"
	"net/http"

	"github.com/docker/docker/api/types/filters"
	networktypes "github.com/docker/docker/api/types/network"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/router"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

type networkRouter struct {
	backend Backend
}

// New returns the network router over backend.
func New(backend Backend) router.Router { return &networkRouter{backend: backend} }

// Routes lists literal paths before the {id:.*} patterns.
func (n *networkRouter) Routes() []router.Route {
	return []router.Route{
		router.NewGetRoute("/networks", n.getNetworksList),
		router.NewGetRoute("/networks/", n.getNetworksList),
		router.NewGetRoute("/networks/{id:.+}", n.getNetwork),
		router.NewPostRoute("/networks/create", n.postNetworkCreate),
		router.NewPostRoute("/networks/prune", n.postNetworksPrune),
		router.NewPostRoute("/networks/{id:.*}/connect", n.postNetworkConnect),
		router.NewPostRoute("/networks/{id:.*}/disconnect", n.postNetworkDisconnect),
		router.NewDeleteRoute("/networks/{id:.*}", n.deleteNetwork),
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

func (n *networkRouter) getNetworksList(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := formFilters(r)
	if err != nil {
		return err
	}
	list, err := n.backend.List(ctx, f)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, list)
}

func (n *networkRouter) getNetwork(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	if scope := r.Form.Get("scope"); scope != "" && scope != "local" {
		return errdefs.NotFound(errors.New("network " + vars["id"] + " not found"))
	}
	nw, err := n.backend.Inspect(ctx, vars["id"])
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, nw)
}

func (n *networkRouter) postNetworkCreate(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var req networktypes.CreateRequest
	if err := httputils.ReadJSON(r, &req); err != nil {
		return err
	}
	res, err := n.backend.Create(ctx, req)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusCreated, res)
}

func (n *networkRouter) postNetworkConnect(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	var req networktypes.ConnectOptions
	if err := httputils.ReadJSON(r, &req); err != nil {
		return err
	}
	if err := n.backend.Connect(ctx, vars["id"], req.Container, req.EndpointConfig); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (n *networkRouter) postNetworkDisconnect(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	var req networktypes.DisconnectOptions
	if err := httputils.ReadJSON(r, &req); err != nil {
		return err
	}
	if err := n.backend.Disconnect(ctx, vars["id"], req.Container, req.Force); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (n *networkRouter) deleteNetwork(ctx context.Context, w http.ResponseWriter, _ *http.Request, vars map[string]string) error {
	if err := n.backend.Remove(ctx, vars["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (n *networkRouter) postNetworksPrune(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := formFilters(r)
	if err != nil {
		return err
	}
	rep, err := n.backend.Prune(ctx, f)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, rep)
}
