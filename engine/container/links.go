package container

import (
	"errors"
	"fmt"
	"path"
	"strings"

	containertypes "github.com/docker/docker/api/types/container"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// Legacy links (--link name[:alias]) on the default bridge, as dockerd
// keeps them: the linked container's address goes into the linking
// container's /etc/hosts under the alias, the linked container's hostname
// and its name (the only name resolution the default bridge has):
//
//	docker run -d --name db busybox sleep 1000
//	docker run --link db:database busybox ping database
//	  /etc/hosts:  172.17.0.2	database 5f3c0a7d9e1b db
//
// At create a missing container is dockerd's 400 ("could not get container
// for db: No such container: db") and one on the host's network a 400
// conflict; at start one that does not run is refused. On user-defined
// networks links are ignored here (their names resolve through the
// embedded DNS server). The environment variables dockerd also sets for
// links (DB_PORT_80_TCP...) are not.

// errHostNetworkLinks is dockerd's conflict of --link with a container on
// the host's network.
var errHostNetworkLinks = errors.New("conflicting options: host type networking can't be used with links. This would result in undefined behavior")

// parseLink reads "name[:alias]" (either may have dockerd's leading "/"
// forms: "/db:/web/database").
func parseLink(l string) (name, alias string, err error) {
	name, alias, _ = strings.Cut(l, ":")
	name = strings.TrimPrefix(name, "/")
	if name == "" {
		return "", "", fmt.Errorf("invalid link format: %s", l)
	}
	if alias == "" {
		alias = name
	}
	return name, path.Base(alias), nil
}

// verifyLinks checks a new container's links as dockerd's registerLinks
// does; links of containers on user-defined networks are not looked at.
func (s *Service) verifyLinks(hc *containertypes.HostConfig) error {
	if !hc.NetworkMode.IsDefault() && !hc.NetworkMode.IsBridge() && !hc.NetworkMode.IsHost() && !hc.NetworkMode.IsNone() {
		return nil
	}
	for _, l := range hc.Links {
		name, _, err := parseLink(l)
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		child, err := s.store.Get(name)
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("could not get container for %s: %w", name, err))
		}
		if child.HostConfig.NetworkMode.IsHost() {
			return errdefs.InvalidParameter(errHostNetworkLinks)
		}
	}
	return nil
}

// linkHosts is the /etc/hosts lines of c's links when c is on the default
// bridge: each linked container's address on it with the alias, its
// hostname and its name. Call without c.mu held (it reads the linked
// containers under their locks).
func (s *Service) linkHosts(c *Container) (string, error) {
	hc := c.HostConfig
	if len(hc.Links) == 0 || !(hc.NetworkMode.IsDefault() || hc.NetworkMode.IsBridge()) || s.cfg.Networks == nil {
		return "", nil
	}
	var b strings.Builder
	for _, l := range hc.Links {
		name, alias, err := parseLink(l)
		if err != nil {
			return "", errdefs.InvalidParameter(err)
		}
		child, err := s.store.Get(name)
		if err != nil {
			return "", errdefs.InvalidParameter(fmt.Errorf("could not get container for %s: %w", name, err))
		}
		child.mu.Lock()
		childName, hostname := trimSlash(child.Name), child.Config.Hostname
		child.mu.Unlock()
		if !child.State.IsRunning() {
			return "", errdefs.System(fmt.Errorf("Cannot link to a non running container: /%s AS %s/%s", childName, c.Name, alias))
		}
		nets, _, _ := s.cfg.Networks.Settings(child.ID, nil, nil)
		es := nets["bridge"]
		if es == nil || es.IPAddress == "" {
			continue // not on the default bridge: nothing to reach it at
		}
		names := alias + " " + hostname
		if alias != childName {
			names += " " + childName
		}
		b.WriteString(es.IPAddress + "\t" + names + "\n")
		if es.GlobalIPv6Address != "" {
			b.WriteString(es.GlobalIPv6Address + "\t" + names + "\n")
		}
	}
	return b.String(), nil
}
