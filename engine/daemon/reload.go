package daemon

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"

	"github.com/wharf-project/wharf/engine/events"
)

// InsecureRegistry reports whether host may be reached over plain HTTP or
// unverified TLS under the configuration in force (see Config.InsecureRegistry).
func (d *Daemon) InsecureRegistry(host string) bool {
	c := d.Config()
	return c.InsecureRegistry(host)
}

// Reload applies the keys of next that can change while running, as dockerd
// does on SIGHUP: debug, log-level, labels, insecure-registries,
// registry-mirrors, shutdown-timeout. The rest (hosts, roots, TLS) need a
// restart and are ignored. It publishes a daemon "reload" event whose
// attributes show the new values.
func (d *Daemon) Reload(ctx context.Context, next Config) error {
	if err := next.Validate(); err != nil {
		return err
	}
	d.mu.Lock()
	d.cfg.Debug = next.Debug
	d.cfg.LogLevel = next.LogLevel
	d.cfg.Labels = next.Labels
	d.cfg.InsecureRegistries = next.InsecureRegistries
	d.cfg.RegistryMirrors = next.RegistryMirrors
	d.cfg.ShutdownTimeout = next.ShutdownTimeout
	d.cfg.LiveRestore = next.LiveRestore
	c := d.cfg
	d.mu.Unlock()

	hostname, _ := os.Hostname()
	list := func(v []string) string {
		b, _ := json.Marshal(nonNil(v))
		return string(b)
	}
	d.Events.Log(ctx, events.DaemonEventType, events.ActionReload, events.Actor{
		ID: d.id,
		Attributes: map[string]string{
			"name":                hostname,
			"debug":               strconv.FormatBool(c.Debug),
			"log-level":           strings.ToLower(c.LogLevel),
			"labels":              list(c.Labels),
			"insecure-registries": list(c.InsecureRegistries),
			"registry-mirrors":    list(c.RegistryMirrors),
			"shutdown-timeout":    strconv.Itoa(c.ShutdownTimeout),
			"live-restore":        strconv.FormatBool(c.LiveRestore),
		},
	})
	return nil
}
