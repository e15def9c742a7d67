package volume

import (
	"context"

	"github.com/docker/docker/api/types/filters"
	volumetypes "github.com/docker/docker/api/types/volume"

	"github.com/wharf-project/wharf/engine/volume"
)

// Backend is what the volume routes need from the volume store
// (*volume.Service implements it).
type Backend interface {
	List(ctx context.Context, f filters.Args) ([]*volumetypes.Volume, []string, error)
	Get(ctx context.Context, name string) (*volumetypes.Volume, error)
	Create(ctx context.Context, name, driver string, opts, labels map[string]string) (*volumetypes.Volume, error)
	Remove(ctx context.Context, name string, force bool) error
	Prune(ctx context.Context, f filters.Args) (*volumetypes.PruneReport, error)
}

var _ Backend = (*volume.Service)(nil)
