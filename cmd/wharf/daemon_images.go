package main

import (
	"context"
	"log/slog"

	"github.com/wharf-project/wharf/engine/daemon"
	"github.com/wharf-project/wharf/engine/distribution"
	"github.com/wharf-project/wharf/engine/image"
	"github.com/wharf-project/wharf/engine/router"
	imagerouter "github.com/wharf-project/wharf/engine/router/image"
)

// The image store: opened under the data root before the daemon serves,
// closed by a shutdown hook after the last request has ended.
func init() {
	daemonPlugins = append(daemonPlugins, func(ctx context.Context, d *daemon.Daemon) ([]router.Router, error) {
		cfg := d.Config()
		svc, err := image.NewService(ctx, image.Config{
			Root:        cfg.DataRoot,
			Snapshotter: cfg.StorageDriver,
			Events:      d.Events,
			Registry: distribution.Config{
				InsecureRegistries: cfg.InsecureRegistries,
				Mirrors:            cfg.RegistryMirrors,
			},
			Logger: slog.Default(),
		})
		if err != nil {
			return nil, err
		}
		d.Images = svc
		d.OnShutdown(func(context.Context) error { return svc.Close() })
		return []router.Router{imagerouter.New(svc)}, nil
	})
}

var (
	_ daemon.ImageStore        = (*image.Service)(nil)
	_ daemon.StorageDriverInfo = (*image.Service)(nil)
)
