package main

import (
	"context"
	"log/slog"

	"github.com/wharf-project/wharf/engine/daemon"
	"github.com/wharf-project/wharf/engine/router"
	volumerouter "github.com/wharf-project/wharf/engine/router/volume"
	"github.com/wharf-project/wharf/engine/volume"
)

// Volumes and containers: opened under the data root after the image
// store (this file's init runs after daemon_images.go's), closed by
// shutdown hooks before it.
func init() {
	daemonPlugins = append(daemonPlugins, func(ctx context.Context, d *daemon.Daemon) ([]router.Router, error) {
		cfg := d.Config()
		vols, err := volume.Open(ctx, volume.Config{Root: cfg.DataRoot, Events: d.Events, Logger: slog.Default()})
		if err != nil {
			return nil, err
		}
		d.OnShutdown(func(context.Context) error { return vols.Close() })
		return []router.Router{volumerouter.New(vols)}, nil
	})
}
