package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"

	eventtypes "github.com/docker/docker/api/types/events"
	"github.com/docker/go-connections/nat"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// JoinRequest is what Join needs to know of a container about to start.
type JoinRequest struct {
	ContainerID string
	// Mode is the container's network mode, for a container created
	// before its networks were recorded (an older data root).
	Mode       string
	Name       string // without "/"
	Hostname   string
	Domainname string
	// MacAddress is the container's --mac-address (its first network).
	MacAddress   string
	PortBindings nat.PortMap
	ExposedPorts nat.PortSet
	PublishAll   bool
	// DNS replaces the daemon's upstream resolvers for this container.
	DNS []string
}

// Joined is what the container's start needs back.
type Joined struct {
	// NetnsPath is the namespace the container must join.
	NetnsPath string
	// Addr is the container's address on its first network; the start
	// puts it in /etc/hosts with the hostname (and Addr6, its IPv6
	// address there, if the network has IPv6).
	Addr, Addr6 netip.Addr
	// EmbeddedDNS tells that resolv.conf must name 127.0.0.11 (user
	// networks), as dockerd writes it.
	EmbeddedDNS bool
}

// sandbox is a running container's networking. The exported fields are
// stored, so that the next daemon can take it back (Rejoin) when the
// container outlived the daemon that made it, or undo it (DropStale).
type sandbox struct {
	ContainerID string
	Name        string
	NetnsPath   string
	Endpoints   map[string]*sbEndpoint // by network ID
	// PortsOn is the network whose address the published ports reach.
	PortsOn string
	NextIf  int
	// Published is the published ports as last stored, so that a
	// rejoined sandbox gets the same host ports again.
	Published []publishedPort `json:",omitempty"`

	ports []*portMapping
	dns   *resolver
	ns    *os.File
}

// sbEndpoint is a container's endpoint on one network.
type sbEndpoint struct {
	endpoint
	NetworkID  string
	EndpointID string
	Aliases    []string
	DNSNames   []string
}

// Join makes the container's sandbox: its namespace, an endpoint on each
// network it is attached to, published ports and the embedded DNS
// server. Leave undoes it.
func (s *Service) Join(ctx context.Context, req JoinRequest) (_ *Joined, retErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errdefs.Unavailable(errors.New("the network service is closed"))
	}
	// A sandbox left from an earlier run goes first, and so does what a
	// run that outlived a daemon and was not rejoined left.
	s.leaveLocked(req.ContainerID)
	rec, err := s.ctrRecord(req.ContainerID)
	if err != nil {
		return nil, err
	}
	if rec == nil && req.Mode != "" {
		if err := s.registerLocked(req.ContainerID, req.Mode, nil); err != nil {
			return nil, err
		}
		if rec, err = s.ctrRecord(req.ContainerID); err != nil {
			return nil, err
		}
	}
	if rec == nil || rec.Primary == "" {
		return nil, errdefs.InvalidParameter(fmt.Errorf("container %s has no network attachment: it was created before its network existed", req.ContainerID))
	}
	order := rec.order()
	for _, nid := range order {
		if _, err := s.networkUp(ctx, rec, nid); err != nil {
			return nil, err
		}
	}
	sb := &sandbox{ContainerID: req.ContainerID, Name: req.Name, Endpoints: map[string]*sbEndpoint{},
		NetnsPath: filepath.Join(s.cfg.ExecRoot, "netns", req.ContainerID)}
	if err := createNetns(s.nsFd(), sb.NetnsPath); err != nil {
		return nil, errdefs.System(fmt.Errorf("network namespace: %w", err))
	}
	if sb.ns, err = openNetns(sb.NetnsPath); err != nil {
		_ = removeNetns(sb.NetnsPath)
		return nil, errdefs.System(err)
	}
	s.sandboxes[sb.ContainerID] = sb
	defer func() {
		if retErr != nil {
			s.leaveLocked(sb.ContainerID)
		}
	}()
	if err := s.putSandbox(sb); err != nil {
		return nil, errdefs.System(err)
	}
	for i, nid := range order {
		mac := ""
		if i == 0 {
			mac = req.MacAddress
		}
		if err := s.addEndpoint(sb, s.nets[nid], rec.Networks[nid], mac); err != nil {
			return nil, err
		}
	}
	j, err := s.complete(sb, req, rec, nil)
	if err != nil {
		return nil, err
	}
	for _, nid := range order {
		s.event(ctx, eventtypes.ActionConnect, s.nets[nid], map[string]string{"container": sb.ContainerID})
	}
	return j, nil
}

// complete finishes a sandbox whose endpoints are in place, for Join and
// Rejoin: its ports published (prefer: host ports to take again), the
// DNS server started, the firewall applied, the records saved.
func (s *Service) complete(sb *sandbox, req JoinRequest, rec *ctrRecord, prefer []publishedPort) (*Joined, error) {
	sb.PortsOn = rec.Primary
	if err := s.publish(sb, req, prefer); err != nil {
		return nil, err
	}
	j, err := s.joined(sb, req)
	if err != nil {
		return nil, err
	}
	if err := s.applyFirewall(); err != nil {
		return nil, errdefs.System(err)
	}
	if err := s.saveSandbox(sb, rec); err != nil {
		return nil, errdefs.System(err)
	}
	return j, nil
}

// publish reserves the published ports of the request on the sandbox's
// PortsOn endpoint, taking again, where they fit, the host ports of
// prefer (what a rejoined sandbox had). Call with s.mu held.
func (s *Service) publish(sb *sandbox, req JoinRequest, prefer []publishedPort) error {
	primary := sb.Endpoints[sb.PortsOn]
	if primary == nil {
		return errdefs.System(fmt.Errorf("container %s has no endpoint on its primary network", req.ContainerID))
	}
	failed := func(err error) error {
		return errdefs.System(fmt.Errorf("driver failed programming external connectivity on endpoint %s (%s): %w",
			req.Name, primary.EndpointID, err))
	}
	wanted, err := wantedPorts(req.PortBindings, req.ExposedPorts, req.PublishAll, primary.Addr6.IsValid())
	if errors.Is(err, errBadProto) {
		return failed(err)
	}
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	if n := s.nets[sb.PortsOn]; n == nil || n.Internal {
		wanted = nil // an internal network is not reachable from outside
	}
	taken := make([]bool, len(prefer))
	for _, w := range wanted {
		m, err := w.reserveAgain(s.nsFd(), prefer, taken)
		if inUse := (*portInUseError)(nil); errors.As(err, &inUse) && s.portHeld(inUse) {
			return failed(inUse.allocated())
		}
		if err != nil {
			return failed(err)
		}
		sb.ports = append(sb.ports, m)
		if w.Also6 {
			// The same port on [::] for the container's IPv6 address, as
			// dockerd publishes both; a host whose [::]:port is taken keeps
			// the IPv4 one only.
			twin := wantedPort{Proto: w.Proto, CtrPort: w.CtrPort, HostIP: netip.IPv6Unspecified(), HostLo: m.HostPort, HostHi: m.HostPort}
			if m6, err := twin.reserve(s.nsFd()); err != nil {
				s.log.Warn("ipv6 port not published", "container", req.ContainerID, "port", m.HostPort, "error", err)
			} else {
				sb.ports = append(sb.ports, m6)
			}
		}
	}
	return nil
}

// joined is what Join and Rejoin return for a sandbox, starting the
// embedded DNS server when the container is on a user network. Call with
// s.mu held.
func (s *Service) joined(sb *sandbox, req JoinRequest) (*Joined, error) {
	primary := sb.Endpoints[sb.PortsOn]
	j := &Joined{NetnsPath: sb.NetnsPath, Addr: primary.Addr.Addr()}
	if primary.Addr6.IsValid() {
		j.Addr6 = primary.Addr6.Addr()
	}
	for nid := range sb.Endpoints {
		if !s.nets[nid].Default {
			j.EmbeddedDNS = true
		}
	}
	if j.EmbeddedDNS {
		if err := s.startDNS(sb, req.DNS); err != nil {
			return nil, errdefs.System(err)
		}
	}
	return j, nil
}

// Leave undoes Join (or Rejoin): the DNS server stops, ports are freed,
// veths and the namespace go, addresses return to their pools. A stale
// sandbox of the container (see Open) is undone as well.
func (s *Service) Leave(ctx context.Context, containerID string) {
	s.leave(containerID)
}

// networkUp returns the network nid of a container's record, with the
// default bridge brought up when it is that one. Call with s.mu held.
func (s *Service) networkUp(ctx context.Context, rec *ctrRecord, nid string) (*netRecord, error) {
	n, ok := s.nets[nid]
	if !ok {
		return nil, errNotFound(rec.Networks[nid].NetworkName)
	}
	if n.Default {
		if err := s.defaultUp(ctx, n); err != nil {
			return nil, errdefs.System(err)
		}
	}
	return n, nil
}

func (s *Service) leave(containerID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leaveLocked(containerID)
}

func (s *Service) leaveLocked(containerID string) {
	if st := s.stale[containerID]; st != nil {
		s.dropStaleLocked(st)
	}
	sb := s.sandboxes[containerID]
	if sb == nil {
		return
	}
	if sb.dns != nil {
		sb.dns.close()
		sb.dns = nil
	}
	rec, _ := s.ctrRecord(containerID)
	nids := make([]string, 0, len(sb.Endpoints))
	for nid := range sb.Endpoints {
		nids = append(nids, nid)
	}
	sort.Strings(nids)
	for _, nid := range nids {
		if rec != nil && rec.Networks[nid] != nil {
			rec.Networks[nid].LastIP = sb.Endpoints[nid].Addr.Addr().String()
			if a6 := sb.Endpoints[nid].Addr6; a6.IsValid() {
				rec.Networks[nid].LastIP6 = a6.Addr().String()
			}
		}
		s.removeEndpoint(sb, nid)
		if n := s.nets[nid]; n != nil {
			s.event(context.Background(), eventtypes.ActionDisconnect, n, map[string]string{"container": containerID})
		}
	}
	for _, m := range sb.ports {
		m.release()
	}
	if sb.ns != nil {
		sb.ns.Close()
	}
	if err := removeNetns(sb.NetnsPath); err != nil {
		s.log.Warn("network namespace not removed", "path", sb.NetnsPath, "error", err)
	}
	delete(s.sandboxes, containerID)
	if rec != nil {
		if err := s.db.put(bucketContainers, containerID, rec); err != nil {
			s.log.Warn("container network record not saved", "container", containerID, "error", err)
		}
	}
	if err := s.db.delete(bucketSandboxes, containerID); err != nil {
		s.log.Warn("sandbox record not deleted", "container", containerID, "error", err)
	}
	if !s.closed {
		if err := s.applyFirewall(); err != nil {
			s.log.Warn("firewall not updated", "error", err)
		}
	}
}

func (s *Service) saveSandbox(sb *sandbox, rec *ctrRecord) error {
	if err := s.putSandbox(sb); err != nil {
		return err
	}
	return s.db.put(bucketContainers, sb.ContainerID, rec)
}

// putSandbox stores a sandbox's record, with its published ports as they
// are now.
func (s *Service) putSandbox(sb *sandbox) error {
	sb.Published = sb.Published[:0]
	for _, m := range sb.ports {
		sb.Published = append(sb.Published, m.publishedPort)
	}
	return s.db.put(bucketSandboxes, sb.ContainerID, sb)
}
