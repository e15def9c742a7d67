package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

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
		d.OnShutdown(func(context.Context) error {
			if d.Config().LiveRestore {
				return vols.Detach() // device volumes stay mounted for the containers
			}
			return vols.Close()
		})
		rt, err := newContainerRuntime(cfg)
		if err != nil {
			return nil, err
		}
		// What a daemon that died left running without a monitor is
		// killed before the records are read; the rest is adopted (see
		// container.Service.AdoptRunning), and what no record claims then
		// goes too.
		killed := rt.Cleanup(ctx, false)
		ctrs, err := container.New(ctx, container.Config{
			Root:            cfg.DataRoot,
			Images:          images,
			Snapshotter:     images.Snapshotter(),
			SnapshotterName: images.SnapshotterName(),
			Volumes:         vols,
			Events:          d.Events,
			// Bridge and user networks: sandboxes from the network
			// service (daemon_networks.go).
			BridgeNetworking: daemonNetworks != nil,
			Logger:           slog.Default(),
		})
		if err != nil {
			return nil, err
		}
		if daemonNetworks != nil {
			ctrs.SetNetworks(daemonNetworks)
		}
		ctrs.SetRuntime(rt)
		daemonContainerNames.svc.Store(ctrs)
		ctrs.AdoptRunning(ctx)
		killed = append(killed, rt.Cleanup(ctx, true)...)
		// The sandboxes and device volume mounts of containers nobody
		// adopted go.
		if daemonNetworks != nil {
			daemonNetworks.DropStale()
		}
		vols.UnmountUnused()
		ctrs.Restore(ctx, killed)
		// Containers are stopped as soon as the daemon is told to stop (ctx
		// is cancelled by SIGTERM/SIGINT), so that clients waiting for their
		// exit get it while the API drains; the hook, added after the
		// volumes' so it runs before it, waits for that (or does it, when the
		// daemon stops for another reason) before volumes close. With
		// live-restore (as it is when the daemon stops) they run on, and
		// the next daemon adopts them.
		go func() {
			<-ctx.Done()
			if d.Config().LiveRestore {
				return
			}
			sctx, cancel := context.WithTimeout(context.Background(), time.Duration(d.Config().ShutdownTimeout)*time.Second)
			defer cancel()
			_ = ctrs.Shutdown(sctx)
		}()
		d.OnShutdown(func(ctx context.Context) error {
			if d.Config().LiveRestore {
				return nil
			}
			return ctrs.Shutdown(ctx)
		})
		images.SetInUse(ctrs.ImageInUse)
		d.Containers, d.Volumes = ctrs, vols
		return []router.Router{volumerouter.New(vols), containerrouter.New(ctrs), execrouter.New(ctrs)}, nil
	})
}

var (
	_ daemon.ContainerStore = (*container.Service)(nil)
	_ daemon.VolumeStore    = (*volume.Service)(nil)
)
