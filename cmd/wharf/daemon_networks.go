package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/daemon"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/network"
	"github.com/wharf-project/wharf/engine/router"
	networkrouter "github.com/wharf-project/wharf/engine/router/network"
)

// daemonNetworks is the network service, opened before the container
// store (this file's init runs before daemon_volumes_containers.go's), which
// uses it to give containers their sandboxes. Its shutdown hook is added
// first, so it runs after the containers have stopped.
var daemonNetworks *network.Service

// daemonContainerNames lets the network service resolve container names
// once the container store is open.
var daemonContainerNames containerNames

type containerNames struct {
	svc atomic.Pointer[container.Service]
}

func (c *containerNames) Lookup(name string) (string, string, error) {
	svc := c.svc.Load()
	if svc == nil {
		return "", "", errdefs.Unavailable(errors.New("the container store is not open yet"))
	}
	ctr, err := svc.Get(name)
	if err != nil {
		return "", "", err
	}
	return ctr.ID, strings.TrimPrefix(ctr.GetName(), "/"), nil
}

func init() {
	daemonPlugins = append(daemonPlugins, func(ctx context.Context, d *daemon.Daemon) ([]router.Router, error) {
		cfg := d.Config()
		nets, err := network.Open(ctx, network.Config{
			Table:      nftTable(cfg),
			Root:       cfg.DataRoot,
			ExecRoot:   cfg.ExecRoot,
			Bridge:     cfg.Bridge,
			BridgeIP:   cfg.BridgeIP,
			MTU:        cfg.MTU,
			DNS:        cfg.DNS,
			Events:     d.Events,
			Containers: &daemonContainerNames,
			Logger:     slog.Default(),
		})
		if err != nil {
			// Without it the daemon still serves everything else; bridge
			// and user networks answer 501 (and --network none/host work).
			slog.Warn("networking disabled: bridge and user networks are unavailable", "error", err)
			return nil, nil
		}
		d.OnShutdown(func(context.Context) error {
			if d.Config().LiveRestore {
				// The containers run on: their sandboxes stay for the
				// next daemon to take back.
				nets.Detach()
				return nil
			}
			return nets.Close()
		})
		daemonNetworks = nets
		return []router.Router{networkrouter.New(nets)}, nil
	})
}

// nftTable names the daemon's nftables table: "wharf" for the default
// daemon, with a suffix for a daemon on another bridge or data root, so
// daemons side by side (tests) never replace each other's rules.
func nftTable(cfg daemon.Config) string {
	switch {
	case cfg.Bridge != "" && cfg.Bridge != network.DefaultBridge:
		return network.DefaultTable + "-" + cfg.Bridge
	case cfg.DataRoot != daemon.DefaultDataRoot:
		sum := sha256.Sum256([]byte(cfg.DataRoot))
		return network.DefaultTable + "-" + hex.EncodeToString(sum[:4])
	}
	return network.DefaultTable
}
