// Package image serves the image routes of the Engine API (/images/...)
// over a Backend, the image service.
package image

import (
	"github.com/wharf-project/wharf/engine/router"
)

type imageRouter struct {
	backend Backend
}

// New returns the image router over backend.
func New(backend Backend) router.Router { return &imageRouter{backend: backend} }

// Routes lists literal paths before the {name:.*} patterns that would also
// match them.
func (ir *imageRouter) Routes() []router.Route {
	return []router.Route{
		router.NewGetRoute("/images/json", ir.getImagesJSON),
		router.NewGetRoute("/images/get", ir.getImagesGet),
		router.NewGetRoute("/images/{name:.*}/get", ir.getImagesGet),
		router.NewGetRoute("/images/{name:.*}/history", ir.getImagesHistory),
		router.NewGetRoute("/images/{name:.*}/json", ir.getImagesByName),
		router.NewPostRoute("/images/load", ir.postImagesLoad),
		router.NewPostRoute("/images/create", ir.postImagesCreate),
		router.NewPostRoute("/images/prune", ir.postImagesPrune),
		router.NewPostRoute("/images/{name:.*}/push", ir.postImagesPush),
		router.NewPostRoute("/images/{name:.*}/tag", ir.postImagesTag),
		router.NewDeleteRoute("/images/{name:.*}", ir.deleteImages),
	}
}
