package container

import (
	"errors"
	"fmt"
	"strings"

	containertypes "github.com/docker/docker/api/types/container"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/network"
)

// A container started with --network container:<name|id> has no network
// of its own: it joins the network namespace of another, running
// container, as dockerd does it:
//
//	create:  validateNetContainerMode refuses what cannot apply (--hostname,
//	         --dns, --add-host, --mac-address, -p, --expose, --link: 400);
//	         the name is resolved to the full ID if the container exists
//	start:   networkedContainer: not found 404, itself 500, not running 409;
//	         the joiner takes the target's hostname and domain name and
//	         shares its hostname, hosts and resolv.conf files (the same
//	         paths, not copies), and its spec names /proc/<pid>/ns/net of
//	         the target's process
//
// Inspect shows no networks and no ports for it (NetworkSettings is
// empty), and it cannot be connected to other networks.

// dockerd's conflicts of a container network mode with other options.
var (
	errNetContainerFormat   = errors.New("Invalid network mode: invalid container format container:<name|id>")
	errNetContainerHostname = errors.New("conflicting options: hostname and the network mode")
	errNetContainerLinks    = errors.New("conflicting options: container type network can't be used with links. This would result in undefined behavior")
	errNetContainerDNS      = errors.New("conflicting options: dns and the network mode")
	errNetContainerHosts    = errors.New("conflicting options: custom host-to-IP mapping and the network mode")
	errNetContainerMac      = errors.New("conflicting options: mac-address and the network mode")
	errNetContainerPublish  = errors.New("conflicting options: port publishing and the container type network mode")
	errNetContainerExpose   = errors.New("conflicting options: port exposing and the container type network mode")
)

// validateNetContainerMode is dockerd's check of a container network mode
// at create (its validateNetContainerMode), with its messages (400s).
func validateNetContainerMode(cfg *containertypes.Config, hc *containertypes.HostConfig) error {
	mode := string(hc.NetworkMode)
	if rest, ok := strings.CutPrefix(mode, "container"); ok && (rest == "" || rest[0] == ':') {
		if strings.TrimPrefix(rest, ":") == "" {
			return errNetContainerFormat
		}
	}
	if !hc.NetworkMode.IsContainer() {
		if hc.NetworkMode.IsHost() && cfg.MacAddress != "" { //nolint:staticcheck // API < 1.44 sends it here
			return errNetContainerMac
		}
		return nil
	}
	switch {
	case cfg.Hostname != "":
		return errNetContainerHostname
	case len(hc.Links) > 0:
		return errNetContainerLinks
	case len(hc.DNS) > 0:
		return errNetContainerDNS
	case len(hc.ExtraHosts) > 0:
		return errNetContainerHosts
	case cfg.MacAddress != "": //nolint:staticcheck // API < 1.44 sends it here
		return errNetContainerMac
	case len(hc.PortBindings) > 0 || hc.PublishAllPorts:
		return errNetContainerPublish
	case len(cfg.ExposedPorts) > 0:
		return errNetContainerExpose
	}
	return nil
}

// resolveNetContainer records the network mode's container by its full
// ID when it exists, as dockerd does at create (a name given later to
// another container does not change whose network it joins).
func (s *Service) resolveNetContainer(hc *containertypes.HostConfig) {
	if !hc.NetworkMode.IsContainer() {
		return
	}
	if nc, err := s.store.Get(hc.NetworkMode.ConnectedContainer()); err == nil {
		hc.NetworkMode = containertypes.NetworkMode("container:" + nc.ID)
	}
}

// sharedNetwork is what a container joining another's network takes
// from it at start.
type sharedNetwork struct {
	joined                          *network.Joined // NetnsPath: /proc/<pid>/ns/net of the target
	hostname, domainname            string
	hostnamePath, hostsPath, resolv string
}

// networkedContainer finds the running container whose network c joins,
// with dockerd's errors (its getNetworkedContainer). Call without c.mu
// held: it takes the target's lock.
func (s *Service) networkedContainer(c *Container) (*sharedNetwork, error) {
	nc, err := s.store.Get(c.HostConfig.NetworkMode.ConnectedContainer())
	if err != nil {
		return nil, err
	}
	if nc.ID == c.ID {
		return nil, errdefs.System(errors.New("cannot join own network"))
	}
	nc.State.mu.Lock()
	running, restarting, pid := nc.State.Running, nc.State.Restarting, nc.State.Pid
	nc.State.mu.Unlock()
	if !running {
		return nil, errdefs.Conflict(fmt.Errorf("cannot join network of a non running container: %s", c.HostConfig.NetworkMode.ConnectedContainer()))
	}
	if restarting {
		return nil, errdefs.Conflict(fmt.Errorf("Container %s is restarting, wait until the container is running", nc.ID))
	}
	nc.mu.Lock()
	defer nc.mu.Unlock()
	return &sharedNetwork{
		joined:   &network.Joined{NetnsPath: fmt.Sprintf("/proc/%d/ns/net", pid)},
		hostname: nc.Config.Hostname, domainname: nc.Config.Domainname,
		hostnamePath: nc.HostnamePath, hostsPath: nc.HostsPath, resolv: nc.ResolvConfPath,
	}, nil
}

// useSharedNetwork gives c the target's names and /etc files. Call with
// c.mu held.
func useSharedNetwork(c *Container, sn *sharedNetwork) {
	c.Config.Hostname, c.Config.Domainname = sn.hostname, sn.domainname
	c.HostnamePath, c.HostsPath, c.ResolvConfPath = sn.hostnamePath, sn.hostsPath, sn.resolv
}
