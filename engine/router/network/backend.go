package network

import (
	"context"

	"github.com/docker/docker/api/types/filters"
	networktypes "github.com/docker/docker/api/types/network"

	"github.com/wharf-project/wharf/engine/network"
)

// Backend is what the network routes need from the network service
// (*network.Service implements it).
type Backend interface {
	List(ctx context.Context, f filters.Args) ([]networktypes.Summary, error)
	Inspect(ctx context.Context, name string) (networktypes.Inspect, error)
	Create(ctx context.Context, req networktypes.CreateRequest) (networktypes.CreateResponse, error)
	Remove(ctx context.Context, name string) error
	Connect(ctx context.Context, netName, ctrName string, es *networktypes.EndpointSettings) error
	Disconnect(ctx context.Context, netName, ctrName string, force bool) error
	Prune(ctx context.Context, f filters.Args) (*networktypes.PruneReport, error)
}

var _ Backend = (*network.Service)(nil)
