package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/daemon"
	"github.com/wharf-project/wharf/engine/image"
	"github.com/wharf-project/wharf/engine/router"
	containerrouter "github.com/wharf-project/wharf/engine/router/container"
	execrouter "github.com/wharf-project/wharf/engine/router/exec"
	volumerouter "github.com/wharf-project/wharf/engine/router/volume"
	"github.com/wharf-project/wharf/engine/volume"
)

// Volumes and containers: opened under the data root after the image
// store (this file sorts after daemon_images.go, so its init runs later), closed by
// shutdown hooks before it. The container service answers the image
// store's "is this image in use" question, and runs containers on the
// in-process libctr runtime.
func init() {
	daemonPlugins = append(daemonPlugins, func(ctx context.Context, d *daemon.Daemon) ([]router.Router, error) {
		cfg := d.Config()
		images, ok := d.Images.(*image.Service)
		if !ok {
			return nil, errors.New("containers need the image store")
		}
		vols, err := volume.Open(ctx, volume.Config{Root: cfg.DataRoot, Events: d.Events, Logger: slog.Default()})
		if err != nil {
			return nil, err
		}
		d.OnShutdown(func(context.Context) error { return vols.Close() })
		rt, err := newContainerRuntime(cfg)
		if err != nil {
			return nil, err
		}
		// What a daemon that died left running is killed before the
		// records are read (see container.Service.Restore).
		killed := rt.Cleanup(ctx)
		ctrs, err := container.New(ctx, container.Config{
			Root:            cfg.DataRoot,
			Images:          images,
			Snapshotter:     images.Snapshotter(),
			SnapshotterName: images.SnapshotterName(),
			Volumes:         vols,
			Events:          d.Events,
			Logger:          slog.Default(),
		})
		if err != nil {
			return nil, err
		}
		ctrs.SetRuntime(rt)
		ctrs.Restore(ctx, killed)
		// Added after the volumes' hook, so it runs before it: containers
		// are stopped (their real exit codes recorded) before volumes close.
		d.OnShutdown(ctrs.Shutdown)
		images.SetInUse(ctrs.ImageInUse)
		d.Containers, d.Volumes = ctrs, vols
		return []router.Router{volumerouter.New(vols), containerrouter.New(ctrs), execrouter.New(ctrs)}, nil
	})
}

var (
	_ daemon.ContainerStore = (*container.Service)(nil)
	_ daemon.VolumeStore    = (*volume.Service)(nil)
)
