package daemon

import (
	"context"

	"github.com/docker/docker/api/types/registry"

	"github.com/wharf-project/wharf/engine/distribution"
	"github.com/wharf-project/wharf/engine/errdefs"
)

// AuthenticateToRegistry checks auth against its registry with
// distribution.Client.Login (a real GET /v2/ answering the registry's
// challenge), under the insecure-registries in force, so a reload applies
// to the next login. Nothing is stored. Wrong credentials are Unauthorized
// (401), an unreachable registry is Unavailable.
func (d *Daemon) AuthenticateToRegistry(ctx context.Context, auth *registry.AuthConfig) (string, string, error) {
	c, err := distribution.NewClient(distribution.Config{InsecureRegistries: d.Config().InsecureRegistries})
	if err != nil {
		return "", "", errdefs.System(err)
	}
	if err := c.Login(ctx, auth.ServerAddress, *auth); err != nil {
		return "", "", err
	}
	return "Login Succeeded", "", nil
}
