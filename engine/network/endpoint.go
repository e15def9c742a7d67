package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/docker/docker/pkg/stringid"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// addEndpoint connects a sandbox to a network: an address from the pool
// (the static one asked for, else the last one it had if free, else the
// next), a veth pair, and the default route if it is the first network
// with a way out. Call with s.mu held.
func (s *Service) addEndpoint(sb *sandbox, n *netRecord, att *attachment, mac string) error {
	if !n.isBridge() {
		return errdefs.InvalidParameter(fmt.Errorf("network %s (driver %s) cannot be joined by a container with its own namespace", n.Name, n.Driver))
	}
	owner := sb.ContainerID
	var addr netip.Addr
	switch {
	case att.IPv4 != "":
		a, err := netip.ParseAddr(att.IPv4)
		if err != nil || !a.Is4() {
			return errdefs.InvalidParameter(fmt.Errorf("invalid IPv4 address: %s", att.IPv4))
		}
		if !n.userSubnet() {
			return errdefs.InvalidParameter(errors.New("user specified IP address is supported only when connecting to networks with user configured subnets"))
		}
		if err := n.Pool.reserve(a, owner); err != nil {
			return errdefs.Conflict(fmt.Errorf("failed to set up container networking: %w", err))
		}
		addr = a
	default:
		if a, err := netip.ParseAddr(att.LastIP); err == nil && n.Pool.Range.Contains(a) {
			if _, used := n.Pool.Alloc[a]; !used && n.Pool.reserve(a, owner) == nil {
				addr = a
			}
		}
		if !addr.IsValid() {
			a, ok := n.Pool.allocate(owner)
			if !ok {
				return errdefs.Unavailable(fmt.Errorf("no available IPv4 addresses on this network's address pools: %s (%s)", n.Name, n.ID))
			}
			addr = a
		}
	}
	addr6, err := allocate6(n, att, owner)
	if err != nil {
		n.Pool.release(addr, owner)
		return err
	}
	release := func() {
		n.Pool.release(addr, owner)
		if addr6.IsValid() {
			n.Pool6.release(addr6.Addr(), owner)
		}
	}
	hw := macFor(addr)
	if mac == "" {
		mac = att.MacAddress
	}
	if mac != "" {
		m, err := net.ParseMAC(mac)
		if err != nil {
			release()
			return errdefs.InvalidParameter(fmt.Errorf("invalid MAC address: %s", mac))
		}
		hw = m
	}
	ep := &sbEndpoint{
		endpoint: endpoint{HostVeth: "veth" + randHex(7), IfName: fmt.Sprintf("eth%d", sb.NextIf),
			Addr: netip.PrefixFrom(addr, n.Pool.Subnet.Bits()), MAC: hw, MTU: n.MTU, Addr6: addr6},
		NetworkID: n.ID, EndpointID: stringid.GenerateRandomID(), Aliases: att.Aliases,
	}
	if !n.Internal && !s.hasGateway(sb) {
		ep.Gateway = n.Pool.Gateway
	}
	if !n.Internal && addr6.IsValid() && !s.hasGateway6(sb) {
		ep.Gateway6 = n.Pool6.Gateway
	}
	if !n.Default {
		ep.DNSNames = dnsNames(sb, att)
	}
	if err := s.links.addEndpoint(n.Bridge, int(sb.ns.Fd()), &ep.endpoint); err != nil {
		release()
		return errdefs.System(fmt.Errorf("failed to set up container networking: %w", err))
	}
	sb.NextIf++
	sb.Endpoints[n.ID] = ep
	att.LastIP = addr.String()
	if addr6.IsValid() {
		att.LastIP6 = addr6.Addr().String()
	}
	if err := s.db.put(bucketNetworks, n.ID, n); err != nil {
		return errdefs.System(err)
	}
	return s.putSandbox(sb)
}

func (s *Service) hasGateway(sb *sandbox) bool {
	for _, ep := range sb.Endpoints {
		if ep.Gateway.IsValid() {
			return true
		}
	}
	return false
}

func (s *Service) hasGateway6(sb *sandbox) bool {
	for _, ep := range sb.Endpoints {
		if ep.Gateway6.IsValid() {
			return true
		}
	}
	return false
}

// removeEndpoint takes a sandbox off a network. Call with s.mu held.
func (s *Service) removeEndpoint(sb *sandbox, nid string) {
	ep := sb.Endpoints[nid]
	if ep == nil {
		return
	}
	if err := s.links.removeEndpoint(ep.HostVeth); err != nil {
		s.log.Warn("veth not removed", "veth", ep.HostVeth, "error", err)
	}
	if n := s.nets[nid]; n != nil && n.Pool != nil {
		n.Pool.release(ep.Addr.Addr(), sb.ContainerID)
		if n.Pool6 != nil && ep.Addr6.IsValid() {
			n.Pool6.release(ep.Addr6.Addr(), sb.ContainerID)
		}
		if err := s.db.put(bucketNetworks, n.ID, n); err != nil {
			s.log.Warn("network record not saved", "network", n.Name, "error", err)
		}
	}
	delete(sb.Endpoints, nid)
	if sb.PortsOn == nid {
		for _, m := range sb.ports {
			m.release()
		}
		sb.ports = nil
	}
}
