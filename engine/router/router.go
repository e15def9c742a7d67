// Package router defines what an API router gives the server: a flat table of
// routes. Each resource (system, image, container, ...) has its own router
// package with a backend.go (the small interface it needs from the daemon) and
// a table like:
//
//	func (r *imageRouter) Routes() []router.Route {
//		return []router.Route{
//			router.NewGetRoute("/images/json", r.getImagesJSON),
//			router.NewGetRoute("/images/{name:.*}/json", r.getImagesByName),
//			router.NewPostRoute("/images/{name:.*}/tag", r.postImagesTag),
//		}
//	}
//
// Paths are written without the /v1.NN prefix; the server matches both the
// versioned and the unversioned form. Path variables follow moby (gorilla/mux)
// syntax, because image names contain slashes, which net/http's ServeMux
// cannot match in the middle of a path:
//
//	{name}      one path segment (no "/")
//	{name:re}   the regular expression re, e.g. {name:.*} for "library/busybox"
//
// Routes are tried in the order the routers and their tables list them, so a
// literal path ("/images/json") must come before a pattern that also matches
// it ("/images/{name:.*}/json"). A pattern must match the whole path.
package router

import "github.com/wharf-project/wharf/engine/server/httputils"

// Route is one entry of a route table.
type Route struct {
	Method  string // "GET", "HEAD", "POST", "PUT", "DELETE"
	Path    string // e.g. "/images/{name:.*}/json"
	Handler httputils.APIFunc
}

// Router is a resource's route table, given to the server at start.
type Router interface {
	Routes() []Route
}

// NewGetRoute returns a GET route.
func NewGetRoute(path string, h httputils.APIFunc) Route { return Route{"GET", path, h} }

// NewHeadRoute returns a HEAD route.
func NewHeadRoute(path string, h httputils.APIFunc) Route { return Route{"HEAD", path, h} }

// NewPostRoute returns a POST route.
func NewPostRoute(path string, h httputils.APIFunc) Route { return Route{"POST", path, h} }

// NewPutRoute returns a PUT route.
func NewPutRoute(path string, h httputils.APIFunc) Route { return Route{"PUT", path, h} }

// NewDeleteRoute returns a DELETE route.
func NewDeleteRoute(path string, h httputils.APIFunc) Route { return Route{"DELETE", path, h} }
