package container

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"

	containertypes "github.com/docker/docker/api/types/container"
	networktypes "github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/network"
)

// Networking is what containers need from the network service
// (engine/network's *Service): the networks of a container are recorded
// at create, its sandbox (a network namespace with an endpoint per
// network) is made before its process starts and undone when it stops.
//
//	create:  Register(id, mode, endpoints)   unknown network -> 404
//	start:   Join -> spec's network namespace path, /etc/hosts, resolv.conf
//	stop:    Leave
//	rm:      Forget
type Networking interface {
	Register(ctx context.Context, containerID, mode string, endpoints map[string]*networktypes.EndpointSettings) error
	Join(ctx context.Context, req network.JoinRequest) (*network.Joined, error)
	// Rejoin takes back the sandbox of a container a daemon that died
	// left running.
	Rejoin(ctx context.Context, req network.JoinRequest) (*network.Joined, error)
	Leave(ctx context.Context, containerID string)
	Forget(ctx context.Context, containerID string)
	Settings(containerID string, exposed nat.PortSet, bindings nat.PortMap) (map[string]*networktypes.EndpointSettings, nat.PortMap, string)
	// HostGateway is the address of --add-host name:host-gateway.
	HostGateway() netip.Addr
}

var _ Networking = (*network.Service)(nil)

// SetNetworks plugs in the network service (a nil interface, not a nil
// *network.Service, when there is none).
func (s *Service) SetNetworks(n Networking) { s.cfg.Networks = n }

// ownNetwork reports whether the mode gives the container a sandbox of
// the network service (bridge or a user network).
func ownNetwork(hc *containertypes.HostConfig) bool {
	m := hc.NetworkMode
	return !m.IsHost() && !m.IsNone() && !m.IsContainer()
}

// registerNetworks records a new container's networks.
func (s *Service) registerNetworks(ctx context.Context, id string, hc *containertypes.HostConfig, nc *networktypes.NetworkingConfig) error {
	if s.cfg.Networks == nil {
		return nil
	}
	var eps map[string]*networktypes.EndpointSettings
	if nc != nil {
		eps = nc.EndpointsConfig
	}
	return s.cfg.Networks.Register(ctx, id, string(hc.NetworkMode), eps)
}

func (s *Service) forgetNetworks(id string) {
	if s.cfg.Networks != nil {
		s.cfg.Networks.Forget(context.Background(), id)
	}
}

// joinNetworks makes the container's sandbox before its /etc files are
// written; nil without one.
func (s *Service) joinNetworks(ctx context.Context, c *Container) (*network.Joined, error) {
	if s.cfg.Networks == nil || !ownNetwork(c.HostConfig) {
		return nil, nil
	}
	return s.cfg.Networks.Join(ctx, joinRequest(c))
}

// joinRequest is what the network service needs to know of c to make (or
// take back) its sandbox.
func joinRequest(c *Container) network.JoinRequest {
	cfg, hc := c.Config, c.HostConfig
	return network.JoinRequest{
		ContainerID: c.ID, Mode: string(hc.NetworkMode), Name: trimSlash(c.Name), Hostname: cfg.Hostname, Domainname: cfg.Domainname,
		MacAddress:   cfg.MacAddress, //nolint:staticcheck // API < 1.44 sends it here
		PortBindings: hc.PortBindings, ExposedPorts: cfg.ExposedPorts, PublishAll: hc.PublishAllPorts, DNS: hc.DNS,
	}
}

func (s *Service) leaveNetworks(ctx context.Context, id string) {
	if s.cfg.Networks != nil {
		s.cfg.Networks.Leave(ctx, id)
	}
}

// setNetns points the spec's network namespace at the sandbox's.
func setNetns(spec *specs.Spec, j *network.Joined) {
	if j == nil || spec.Linux == nil {
		return
	}
	for i := range spec.Linux.Namespaces {
		if spec.Linux.Namespaces[i].Type == specs.NetworkNamespace {
			spec.Linux.Namespaces[i].Path = j.NetnsPath
			return
		}
	}
	spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: j.NetnsPath})
}

// extraHost is an --add-host entry's line of /etc/hosts: host-gateway
// is the default bridge's gateway (an error without bridge networking, as
// dockerd without a host-gateway-ip), an IPv6 address loses its brackets.
func (s *Service) extraHost(h string) (string, error) {
	name, ip, _ := strings.Cut(h, ":")
	if ip == "host-gateway" {
		var gw netip.Addr
		if s.cfg.Networks != nil {
			gw = s.cfg.Networks.HostGateway()
		}
		if !gw.IsValid() {
			return "", errdefs.InvalidParameter(errors.New("unable to derive the IP value for host-gateway"))
		}
		ip = gw.String()
	}
	return strings.Trim(ip, "[]") + "\t" + name + "\n", nil
}

// hostsEntry is the container's own lines of /etc/hosts, as dockerd
// writes them: its address (and its IPv6 address), then its FQDN (with a
// domain name) and hostname.
func hostsEntry(c *Container, j *network.Joined) string {
	if j == nil || !j.Addr.IsValid() {
		return ""
	}
	names := c.Config.Hostname
	if d := c.Config.Domainname; d != "" {
		names = c.Config.Hostname + "." + d + " " + c.Config.Hostname
	}
	out := j.Addr.String() + "\t" + names + "\n"
	if j.Addr6.IsValid() {
		out += j.Addr6.String() + "\t" + names + "\n"
	}
	return out
}

// embeddedResolvConf is resolv.conf for a container on user networks:
// the embedded DNS server, with the host's (or the container's) search
// domains and options, as dockerd writes it.
func embeddedResolvConf(host []byte, search, options []string) []byte {
	// dockerd adds ndots:0 unless ndots is given: names without a dot
	// are container names, asked as they are, not with search domains.
	ndots := false
	for _, o := range options {
		ndots = ndots || strings.HasPrefix(o, "ndots:")
	}
	if !ndots {
		options = append(append([]string(nil), options...), "ndots:0")
	}
	full := resolvConf(host, false, []string{"127.0.0.11"}, search, options)
	var b bytes.Buffer
	for _, line := range strings.SplitAfter(string(full), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "nameserver" && f[1] != "127.0.0.11" {
			continue
		}
		b.WriteString(line)
	}
	return b.Bytes()
}

// networkSettings is the container's networking for inspect: from the
// network service when there is one (addresses, ports, the sandbox's
// path while it runs), else what the record says.
func (s *Service) networkSettings(c *Container) *containertypes.NetworkSettings {
	ns := networkSettings(c)
	if s.cfg.Networks == nil || c.HostConfig.NetworkMode.IsContainer() {
		return ns
	}
	nets, ports, key := s.cfg.Networks.Settings(c.ID, c.Config.ExposedPorts, c.HostConfig.PortBindings)
	if len(nets) > 0 {
		ns.Networks = nets
	}
	if es := nets["bridge"]; es != nil {
		// The default bridge's endpoint is also at the top, as dockerd
		// (deprecated fields, still read by many scripts).
		ns.DefaultNetworkSettings = containertypes.DefaultNetworkSettings{ //nolint:staticcheck // dockerd still fills them
			EndpointID: es.EndpointID, Gateway: es.Gateway, IPAddress: es.IPAddress, IPPrefixLen: es.IPPrefixLen,
			MacAddress: es.MacAddress, GlobalIPv6Address: es.GlobalIPv6Address, GlobalIPv6PrefixLen: es.GlobalIPv6PrefixLen,
			IPv6Gateway: es.IPv6Gateway,
		}
	}
	if ports != nil {
		ns.Ports = ports
	}
	ns.SandboxKey = key
	if key != "" {
		ns.SandboxID = c.ID
	}
	return ns
}

// summaryPorts is the Ports of a container's line in the list.
func (s *Service) summaryPorts(c *Container) []containertypes.Port {
	out := []containertypes.Port{}
	if s.cfg.Networks == nil {
		return out
	}
	_, ports, _ := s.cfg.Networks.Settings(c.ID, c.Config.ExposedPorts, nil)
	for p, bs := range ports {
		if len(bs) == 0 {
			out = append(out, containertypes.Port{PrivatePort: uint16(p.Int()), Type: p.Proto()})
		}
		for _, b := range bs {
			hp, _ := strconv.Atoi(b.HostPort)
			out = append(out, containertypes.Port{IP: b.HostIP, PrivatePort: uint16(p.Int()), PublicPort: uint16(hp), Type: p.Proto()})
		}
	}
	return out
}

func (s *Service) setJoined(id string, j *network.Joined) {
	s.joinedMu.Lock()
	defer s.joinedMu.Unlock()
	if j == nil {
		delete(s.joined, id)
		return
	}
	if s.joined == nil {
		s.joined = map[string]*network.Joined{}
	}
	s.joined[id] = j
}

func (s *Service) getJoined(id string) *network.Joined {
	s.joinedMu.Lock()
	defer s.joinedMu.Unlock()
	return s.joined[id]
}
