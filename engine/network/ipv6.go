package network

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/docker/docker/api/types/network"
	"github.com/vishvananda/netlink"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// IPv6 on a network (EnableIPv6, docker network create --ipv6) is a
// second pool beside the IPv4 one:
//
//	docker network create --ipv6 [--subnet fd12:3456::/64] v6net
//	  subnet: the client's, else the first free /64 of fd00::/8 (ulaPool)
//	  bridge: the gateway (subnet::1 unless given) as its IPv6 address
//	  containers: eth0 gets the next address (no DAD) and a default route
//	              via the gateway; /etc/hosts and the embedded DNS (AAAA)
//	              know the address; -p also binds [::]:port and DNATs it
//	  firewall: table ip6 <name> beside table ip <name>, with the same
//	            masquerade, published ports, isolation and internal rules
//	  sysctls: net.ipv6.conf.all.forwarding is turned on while a network
//	           with IPv6 and a way out exists, and back off at Close
//
// Published ports on ::1 are not served: IPv6 has no route_localnet, a
// packet from ::1 cannot be sent to a container (dockerd serves those
// with its userland proxy).

// hasIPv6 reports whether the service's namespace has IPv6 at all (a
// kernel booted with ipv6.disable=1 has no /proc/sys/net/ipv6).
func (s *Service) hasIPv6() bool {
	_, err := readSysctl(s.nsFd(), "net/ipv6/conf/all/forwarding")
	return err == nil
}

// newNetworkPool6 makes the IPv6 pool of a new network: the client's
// subnet, range and gateway, or the first free /64 of fd00::/8. Call with
// s.mu and the subnet lock held.
func (s *Service) newNetworkPool6(c *network.IPAMConfig) (*pool, error) {
	var mine []netip.Prefix
	for _, n := range s.nets {
		if n.Pool6 != nil {
			mine = append(mine, n.Pool6.Subnet)
		}
	}
	if c != nil && c.Subnet != "" {
		return clientPool(*c, mine, true)
	}
	used, err := s.links.usedPrefixesOf(netlink.FAMILY_V6, "")
	if err != nil {
		return nil, errdefs.System(err)
	}
	subnet, err := pickSubnet6(append(used, mine...))
	if err != nil {
		return nil, errdefs.Forbidden(err)
	}
	return newPool(subnet, netip.Prefix{}, netip.Addr{})
}

// forward6For turns IPv6 forwarding on for a network with IPv6 and a way
// out (internal ones need none: their traffic stays on the bridge),
// remembering to turn it off at Close. Call with s.mu held.
func (s *Service) forward6For(n *netRecord) error {
	if n.Pool6 == nil || n.Internal || s.forward6Set {
		return nil
	}
	v, err := readSysctl(s.nsFd(), "net/ipv6/conf/all/forwarding")
	if err != nil {
		return fmt.Errorf("ipv6 forwarding: %w", err)
	}
	if strings.TrimSpace(v) != "0" {
		return nil
	}
	if err := writeSysctl(s.nsFd(), "net/ipv6/conf/all/forwarding", "1"); err != nil {
		return fmt.Errorf("enable ipv6 forwarding: %w", err)
	}
	s.forward6Set = true
	s.log.Info("ipv6 forwarding enabled", "sysctl", "net.ipv6.conf.all.forwarding")
	return nil
}

// allocate6 gives an endpoint its IPv6 address on n: the static one
// asked for, else the last one it had if free, else the next. Call with
// s.mu held.
func allocate6(n *netRecord, att *attachment, owner string) (netip.Prefix, error) {
	if n.Pool6 == nil {
		return netip.Prefix{}, nil
	}
	p := n.Pool6
	if att.IPv6 != "" {
		a, err := netip.ParseAddr(att.IPv6)
		if err != nil || !a.Is6() {
			return netip.Prefix{}, errdefs.InvalidParameter(fmt.Errorf("invalid IPv6 address: %s", att.IPv6))
		}
		if err := p.reserve(a, owner); err != nil {
			return netip.Prefix{}, errdefs.Conflict(fmt.Errorf("failed to set up container networking: %w", err))
		}
		return netip.PrefixFrom(a, p.Subnet.Bits()), nil
	}
	if a, err := netip.ParseAddr(att.LastIP6); err == nil && p.Range.Contains(a) {
		if _, used := p.Alloc[a]; !used && p.reserve(a, owner) == nil {
			return netip.PrefixFrom(a, p.Subnet.Bits()), nil
		}
	}
	a, ok := p.allocate(owner)
	if !ok {
		return netip.Prefix{}, errdefs.Unavailable(fmt.Errorf("no available IPv6 addresses on this network's address pools: %s (%s)", n.Name, n.ID))
	}
	return netip.PrefixFrom(a, p.Subnet.Bits()), nil
}

// staticIPv6 checks an --ip6 for a network, as dockerd.
func staticIPv6(n *netRecord, s string) (string, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return "", errdefs.InvalidParameter(fmt.Errorf("invalid IPv6 address: %s", s))
	}
	if n.Pool6 == nil || !n.userSubnetOf(false) {
		return "", errdefs.InvalidParameter(errors.New("user specified IP address is supported only when connecting to networks with user configured subnets"))
	}
	if !n.Pool6.Subnet.Contains(a) {
		return "", errdefs.InvalidParameter(fmt.Errorf("no configured subnet or ip-range contain the IP address %s", a))
	}
	return a.String(), nil
}
