package network

import (
	"net/netip"
	"sort"
)

// applyFirewall rebuilds the nftables table from the networks and the
// running containers' published ports. Call with s.mu held (or before
// the service is shared).
func (s *Service) applyFirewall() error {
	var nets []fwNetwork
	for _, n := range s.sortedNets() {
		if n.isBridge() && (!n.Default || s.defaultIsUp) {
			fn := fwNetwork{Bridge: n.Bridge, Subnet: n.Pool.Subnet, Internal: n.Internal}
			if n.Pool6 != nil {
				fn.Subnet6 = n.Pool6.Subnet
			}
			nets = append(nets, fn)
		}
	}
	var ports []fwPort
	ids := make([]string, 0, len(s.sandboxes))
	for id := range s.sandboxes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		sb := s.sandboxes[id]
		ep := sb.Endpoints[sb.PortsOn]
		if ep == nil {
			continue
		}
		for _, m := range sb.ports {
			ctrIP := ep.Addr.Addr()
			if m.HostIP.Is6() {
				if !ep.Addr6.IsValid() {
					continue
				}
				ctrIP = ep.Addr6.Addr()
			}
			ports = append(ports, fwPort{HostIP: m.HostIP, Proto: m.Proto, HostPort: m.HostPort, CtrIP: ctrIP, CtrPort: m.CtrPort})
		}
	}
	if len(nets) == 0 && len(ports) == 0 {
		// Nothing to do: no table at all.
		return s.fw.remove()
	}
	return s.fw.apply(nets, ports)
}

// HostGateway is the address containers reach the host at: the default
// bridge's gateway, what --add-host name:host-gateway maps to, as
// dockerd's default host-gateway-ip.
func (s *Service) HostGateway() netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.nets {
		if n.Default && n.Pool != nil {
			return n.Pool.Gateway
		}
	}
	return netip.Addr{}
}

// portHeld reports whether one of this daemon's running containers
// publishes the port (the same protocol, host address and port). Call
// with s.mu held.
func (s *Service) portHeld(e *portInUseError) bool {
	for _, sb := range s.sandboxes {
		for _, m := range sb.ports {
			if m.Proto == e.Proto && m.HostIP == e.HostIP && m.HostPort == e.HostPort {
				return true
			}
		}
	}
	return false
}
