package network

import (
	"errors"
	"fmt"
	"net/netip"
)

// Address pools, as dockerd's defaults: the /16s of 172.17-172.31, then
// 192.168.0.0/16 cut into /20s. The default bridge takes the first one
// free (172.17.0.0/16 on a quiet host), user networks the next ones.
var defaultPools = []struct {
	base netip.Prefix
	size int
}{
	{netip.MustParsePrefix("172.17.0.0/16"), 16},
	{netip.MustParsePrefix("172.18.0.0/15"), 16},
	{netip.MustParsePrefix("172.20.0.0/14"), 16},
	{netip.MustParsePrefix("172.24.0.0/13"), 16},
	{netip.MustParsePrefix("192.168.0.0/16"), 20},
}

// errPoolsExhausted is dockerd's message when no pool is left.
var errPoolsExhausted = errors.New("all predefined address pools have been fully subnetted")

// overlaps reports whether two prefixes share an address.
func overlaps(a, b netip.Prefix) bool { return a.Overlaps(b) }

// overlapsAny reports whether p overlaps one of ps.
func overlapsAny(p netip.Prefix, ps []netip.Prefix) bool {
	for _, q := range ps {
		if overlaps(p, q) {
			return true
		}
	}
	return false
}

// pickSubnet returns the first default subnet that overlaps none of taken.
func pickSubnet(taken []netip.Prefix) (netip.Prefix, error) {
	for _, p := range defaultPools {
		step := uint64(1) << (32 - p.size)
		start := ip4(p.base.Addr())
		end := start + uint64(1)<<(32-p.base.Bits())
		for a := start; a < end; a += step {
			cand := netip.PrefixFrom(addr4(a), p.size)
			if !overlapsAny(cand, taken) {
				return cand, nil
			}
		}
	}
	return netip.Prefix{}, errPoolsExhausted
}

func ip4(a netip.Addr) uint64 {
	b := a.As4()
	return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
}

func addr4(v uint64) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// lastAddr is the broadcast address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	return addr4(ip4(p.Masked().Addr()) + uint64(1)<<(32-p.Bits()) - 1)
}

// pool is one network's IPv4 addresses: what is handed out, to whom, and
// where the last allocation stopped. Allocation goes on from there and
// wraps (as dockerd's bit sequence), so a freed address is not handed out
// again soon. It is stored inside the network's record.
type pool struct {
	Subnet  netip.Prefix
	Range   netip.Prefix // addresses for endpoints; the subnet when unset
	Gateway netip.Addr
	// Alloc maps an address to its owner ("gateway", an aux name, or an
	// endpoint: container id).
	Alloc map[netip.Addr]string
	Last  netip.Addr
}

// newPool checks a subnet, range and gateway as dockerd does and reserves
// the gateway. A missing gateway is the subnet's first address.
func newPool(subnet, ipRange netip.Prefix, gw netip.Addr) (*pool, error) {
	if !subnet.IsValid() || !subnet.Addr().Is4() {
		return nil, fmt.Errorf("invalid subnet %s", subnet)
	}
	if subnet.Bits() > 30 {
		return nil, fmt.Errorf("invalid subnet %s : mask too long", subnet)
	}
	subnet = subnet.Masked()
	if !ipRange.IsValid() {
		ipRange = subnet
	}
	ipRange = ipRange.Masked()
	if !subnet.Contains(ipRange.Addr()) || ipRange.Bits() < subnet.Bits() {
		return nil, fmt.Errorf("invalid pool request: ip-range %s is not a subset of subnet %s", ipRange, subnet)
	}
	if !gw.IsValid() {
		gw = subnet.Addr().Next()
	}
	if !subnet.Contains(gw) {
		return nil, fmt.Errorf("invalid pool request: gateway %s is not in subnet %s", gw, subnet)
	}
	if gw == subnet.Addr() || gw == lastAddr(subnet) {
		return nil, fmt.Errorf("invalid gateway %s: it is the subnet's network or broadcast address", gw)
	}
	return &pool{Subnet: subnet, Range: ipRange, Gateway: gw, Alloc: map[netip.Addr]string{gw: "gateway"}}, nil
}

// errAddrInUse is dockerd's answer to a static address already taken.
var errAddrInUse = errors.New("Address already in use")

// reserve takes a given address for owner.
func (p *pool) reserve(a netip.Addr, owner string) error {
	if !p.Subnet.Contains(a) || a == p.Subnet.Addr() || a == lastAddr(p.Subnet) {
		return fmt.Errorf("invalid address %s: it does not belong to any of this network's subnets", a)
	}
	if cur, ok := p.Alloc[a]; ok && cur != owner {
		return errAddrInUse
	}
	p.Alloc[a] = owner
	return nil
}

// allocate hands out the next free address of the range after the last
// one given, wrapping once; ok is false when the range is full.
func (p *pool) allocate(owner string) (netip.Addr, bool) {
	first, last := ip4(p.Range.Addr()), ip4(lastAddr(p.Range))
	lo, hi := ip4(p.Subnet.Addr()), ip4(lastAddr(p.Subnet))
	n := last - first + 1
	start := first
	if p.Last.IsValid() && p.Range.Contains(p.Last) {
		start = ip4(p.Last) + 1
	}
	for i := uint64(0); i < n; i++ {
		v := start + i
		if v > last {
			v -= n
		}
		if v == lo || v == hi {
			continue
		}
		a := addr4(v)
		if _, used := p.Alloc[a]; used {
			continue
		}
		p.Alloc[a] = owner
		p.Last = a
		return a, true
	}
	return netip.Addr{}, false
}

// release frees an address if owner holds it.
func (p *pool) release(a netip.Addr, owner string) {
	if p.Alloc[a] == owner {
		delete(p.Alloc, a)
	}
}
