package image

import (
	"context"
	"io"

	"github.com/docker/docker/api/types/filters"
	imagetypes "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"

	"github.com/wharf-project/wharf/engine/image"
	"github.com/wharf-project/wharf/engine/reference"
)

// Backend is what the image routes need from the image service
// (*image.Service implements it).
type Backend interface {
	List(ctx context.Context, opts image.ListOptions) ([]imagetypes.Summary, error)
	Inspect(ctx context.Context, name string) (*imagetypes.InspectResponse, error)
	History(ctx context.Context, name string) ([]imagetypes.HistoryResponseItem, error)
	Tag(ctx context.Context, source, repo, tag string) error
	Delete(ctx context.Context, name string, opts image.DeleteOptions) ([]imagetypes.DeleteResponse, error)
	Pull(ctx context.Context, ref reference.Named, opts image.PullOptions, out io.Writer) error
	Push(ctx context.Context, ref reference.Named, auth registry.AuthConfig, out io.Writer) error
	Import(ctx context.Context, src io.Reader, opts image.ImportOptions, out io.Writer) (string, error)
	Load(ctx context.Context, r io.Reader, quiet bool, out io.Writer) error
	Save(ctx context.Context, names []string, w io.Writer) error
	Prune(ctx context.Context, f filters.Args) (*imagetypes.PruneReport, error)
}

var _ Backend = (*image.Service)(nil)
