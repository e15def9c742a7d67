package container

import (
	"context"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/wharf-project/wharf/engine/container"
)

// Backend is what the container routes need from the container service
// (*container.Service implements it).
type Backend interface {
	Create(ctx context.Context, p container.CreateParams) (containertypes.CreateResponse, error)
	List(ctx context.Context, o container.ListOptions) ([]*containertypes.Summary, error)
	Inspect(ctx context.Context, name string, size bool) (*containertypes.InspectResponse, error)
	Remove(ctx context.Context, name string, o container.RemoveOptions) error
	Rename(ctx context.Context, oldName, newName string) error
	Prune(ctx context.Context, f filters.Args) (*containertypes.PruneReport, error)
	Start(ctx context.Context, name string) error
	LifecycleBackend
	StreamBackend
	ArchiveBackend
	FilesystemBackend
	UpdateBackend
}

var _ Backend = (*container.Service)(nil)
