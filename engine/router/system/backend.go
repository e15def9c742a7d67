package system

import (
	"context"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/api/types/system"

	"github.com/wharf-project/wharf/engine/events"
)

// Backend is what the system routes need from the daemon.
type Backend interface {
	SystemInfo(ctx context.Context) (*system.Info, error)
	SystemVersion(ctx context.Context) (types.Version, error)
	SystemDiskUsage(ctx context.Context, opts types.DiskUsageOptions) (*types.DiskUsage, error)
	// SubscribeToEvents returns past events in [since, until] and a live
	// channel; cancel ends the subscription. See events.Bus.Subscribe.
	SubscribeToEvents(since, until time.Time, filter *events.Filter) (past []events.Message, live <-chan events.Message, cancel func())
	// AuthenticateToRegistry checks the credentials against the registry
	// and returns dockerd's status ("Login Succeeded") and an identity token
	// when the registry issued one.
	AuthenticateToRegistry(ctx context.Context, auth *registry.AuthConfig) (status, token string, err error)
}
