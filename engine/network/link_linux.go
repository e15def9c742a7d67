package network

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// links makes bridges and veth pairs with netlink in the namespace nsFd
// (the host's in the daemon; a test's own namespace in tests).
type links struct {
	nsFd int
	h    *netlink.Handle
}

func newLinks(nsFd int) (*links, error) {
	h, err := netlink.NewHandleAt(netns.NsHandle(nsFd))
	if err != nil {
		return nil, err
	}
	return &links{nsFd: nsFd, h: h}, nil
}

func (l *links) close() { l.h.Close() }

// ensureBridge makes the bridge (or takes the one there) with the gateway
// address (and the IPv6 one, when valid), MTU and route_localnet
// (published ports reached from loopback), and brings it up.
func (l *links) ensureBridge(name string, gw, gw6 netip.Prefix, mtu int) error {
	link, err := l.h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if !errors.As(err, &nf) {
			return err
		}
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: mtu}}
		if err := l.h.LinkAdd(br); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create bridge %s: %w", name, err)
		}
		if link, err = l.h.LinkByName(name); err != nil {
			return err
		}
	} else if _, ok := link.(*netlink.Bridge); !ok {
		return fmt.Errorf("%s exists and is not a bridge", name)
	}
	addrs, err := l.h.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	have := false
	for _, a := range addrs {
		if p, ok := prefixOf(a.IPNet); ok && p == gw {
			have = true
		}
	}
	if !have {
		if err := l.h.AddrAdd(link, &netlink.Addr{IPNet: ipNet(gw)}); err != nil {
			return fmt.Errorf("address %s on %s: %w", gw, name, err)
		}
	}
	if err := writeSysctl(l.nsFd, "net/ipv4/conf/"+name+"/route_localnet", "1"); err != nil {
		return err
	}
	if gw6.IsValid() {
		if err := l.ensureAddr6(link, gw6); err != nil {
			return fmt.Errorf("address %s on %s: %w", gw6, name, err)
		}
	}
	return l.h.LinkSetUp(link)
}

// ensureAddr6 gives a link an IPv6 address (without duplicate address
// detection, so it is usable at once), turning IPv6 on for it first.
func (l *links) ensureAddr6(link netlink.Link, a netip.Prefix) error {
	if err := writeSysctl(l.nsFd, "net/ipv6/conf/"+link.Attrs().Name+"/disable_ipv6", "0"); err != nil {
		return err
	}
	addrs, err := l.h.AddrList(link, netlink.FAMILY_V6)
	if err != nil {
		return err
	}
	for _, have := range addrs {
		if p, ok := prefixOf(have.IPNet); ok && p == a {
			return nil
		}
	}
	return l.h.AddrAdd(link, &netlink.Addr{IPNet: ipNet(a), Flags: unix.IFA_F_NODAD})
}

// deleteBridge removes a bridge; a missing one is fine.
func (l *links) deleteBridge(name string) error {
	link, err := l.h.LinkByName(name)
	if err != nil {
		return nil
	}
	return l.h.LinkDel(link)
}

// endpoint is one veth pair: its host end on a bridge, the other end in a
// container's namespace as ifName with an address.
type endpoint struct {
	HostVeth string
	IfName   string
	Addr     netip.Prefix
	Gateway  netip.Addr // none: no default route (internal, or not the first network)
	MAC      net.HardwareAddr
	MTU      int
	// Addr6 and Gateway6 are the IPv6 address and default route, on
	// networks with IPv6.
	Addr6    netip.Prefix `json:",omitempty"`
	Gateway6 netip.Addr   `json:",omitempty"`
}

// addEndpoint creates the veth pair with its peer made directly in the
// container's namespace (ctrNs), attaches the host end to the bridge
// (hairpin on), and configures the container end.
func (l *links) addEndpoint(bridge string, ctrNs int, ep *endpoint) (retErr error) {
	br, err := l.h.LinkByName(bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", bridge, err)
	}
	tmp := "wt" + randHex(6)
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: ep.HostVeth, MTU: ep.MTU, MasterIndex: br.Attrs().Index},
		PeerName:      tmp,
		PeerNamespace: netlink.NsFd(ctrNs),
	}
	if err := l.h.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth %s: %w", ep.HostVeth, err)
	}
	defer func() {
		if retErr != nil {
			_ = l.removeEndpoint(ep.HostVeth)
		}
	}()
	host, err := l.h.LinkByName(ep.HostVeth)
	if err != nil {
		return err
	}
	if err := l.h.LinkSetHairpin(host, true); err != nil {
		return fmt.Errorf("hairpin on %s: %w", ep.HostVeth, err)
	}
	if err := l.h.LinkSetUp(host); err != nil {
		return err
	}
	ch, err := netlink.NewHandleAt(netns.NsHandle(ctrNs))
	if err != nil {
		return err
	}
	defer ch.Close()
	peer, err := ch.LinkByName(tmp)
	if err != nil {
		return err
	}
	if err := ch.LinkSetHardwareAddr(peer, ep.MAC); err != nil {
		return fmt.Errorf("mac address %s: %w", ep.MAC, err)
	}
	if err := ch.AddrAdd(peer, &netlink.Addr{IPNet: ipNet(ep.Addr)}); err != nil {
		return fmt.Errorf("address %s: %w", ep.Addr, err)
	}
	if ep.Addr6.IsValid() {
		if err := writeSysctl(ctrNs, "net/ipv6/conf/"+tmp+"/disable_ipv6", "0"); err != nil {
			return err
		}
		if err := ch.AddrAdd(peer, &netlink.Addr{IPNet: ipNet(ep.Addr6), Flags: unix.IFA_F_NODAD}); err != nil {
			return fmt.Errorf("address %s: %w", ep.Addr6, err)
		}
	}
	if err := ch.LinkSetName(peer, ep.IfName); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp, ep.IfName, err)
	}
	if err := ch.LinkSetUp(peer); err != nil {
		return err
	}
	for _, gw := range []netip.Addr{ep.Gateway, ep.Gateway6} {
		if gw.IsValid() {
			r := &netlink.Route{LinkIndex: peer.Attrs().Index, Gw: gw.AsSlice(), Scope: netlink.SCOPE_UNIVERSE}
			if err := ch.RouteAdd(r); err != nil {
				return fmt.Errorf("default route via %s: %w", gw, err)
			}
		}
	}
	return nil
}

// reattach checks a veth pair made before (by a daemon that died): its
// host end must still be there; it is put on the bridge again (a bridge
// made anew has none of its old ports), with hairpin on, and up.
func (l *links) reattach(bridge, hostVeth string) error {
	br, err := l.h.LinkByName(bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", bridge, err)
	}
	host, err := l.h.LinkByName(hostVeth)
	if err != nil {
		return fmt.Errorf("veth %s: %w", hostVeth, err)
	}
	if host.Attrs().MasterIndex != br.Attrs().Index {
		if err := l.h.LinkSetMasterByIndex(host, br.Attrs().Index); err != nil {
			return fmt.Errorf("veth %s on %s: %w", hostVeth, bridge, err)
		}
	}
	if err := l.h.LinkSetHairpin(host, true); err != nil {
		return fmt.Errorf("hairpin on %s: %w", hostVeth, err)
	}
	return l.h.LinkSetUp(host)
}

// removeEndpoint deletes a veth pair by its host end (both ends go).
func (l *links) removeEndpoint(hostVeth string) error {
	link, err := l.h.LinkByName(hostVeth)
	if err != nil {
		return nil
	}
	return l.h.LinkDel(link)
}

// removeCtrLink deletes a container-side interface (a disconnect while
// the container runs).
func removeCtrLink(ctrNs int, ifName string) error {
	ch, err := netlink.NewHandleAt(netns.NsHandle(ctrNs))
	if err != nil {
		return err
	}
	defer ch.Close()
	link, err := ch.LinkByName(ifName)
	if err != nil {
		return nil
	}
	return ch.LinkDel(link)
}

// usedPrefixes lists the IPv4 prefixes routed on this namespace's links
// (not default routes, nor those of the link named except), which a new
// subnet must not overlap.
func (l *links) usedPrefixes(except string) ([]netip.Prefix, error) {
	return l.usedPrefixesOf(netlink.FAMILY_V4, except)
}

// usedPrefixesOf is usedPrefixes for a family (netlink.FAMILY_V4 or V6);
// IPv6 link-local and multicast routes are left out.
func (l *links) usedPrefixesOf(family int, except string) ([]netip.Prefix, error) {
	skip := -1
	if link, err := l.h.LinkByName(except); err == nil {
		skip = link.Attrs().Index
	}
	var routes []netlink.Route
	var err error
	for range 5 {
		routes, err = l.h.RouteListFiltered(family, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, r := range routes {
		if p, ok := prefixOf(r.Dst); ok && p.Bits() > 0 && r.LinkIndex != skip && !p.Addr().IsLinkLocalUnicast() && !p.Addr().IsMulticast() {
			out = append(out, p.Masked())
		}
	}
	return out, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// macFor is dockerd's MAC for an address: 02:42 then the IPv4 bytes.
func macFor(a netip.Addr) net.HardwareAddr {
	b := a.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
