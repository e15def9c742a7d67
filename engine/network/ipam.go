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

// ulaPool is where IPv6 networks created without a subnet get theirs:
// the /64s of fd00::/8 (unique local addresses, never routed beyond the
// host), the first that overlaps nothing, as dockerd 27's default pool.
var ulaPool = netip.MustParsePrefix("fd00::/8")

// errPools6Exhausted is dockerd's message when no IPv6 pool is left.
var errPools6Exhausted = errors.New("could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network")

// pickSubnet6 returns the first /64 of ulaPool that overlaps none of
// taken. A taken prefix wider than a /64 is jumped over whole, so the
// search is bounded by the number of prefixes, not by the pool's size.
func pickSubnet6(taken []netip.Prefix) (netip.Prefix, error) {
	cand := netip.PrefixFrom(ulaPool.Addr(), 64)
	for range 1 << 16 {
		if !ulaPool.Contains(cand.Addr()) {
			break
		}
		var hit *netip.Prefix
		for i := range taken {
			if taken[i].Overlaps(cand) {
				hit = &taken[i]
				break
			}
		}
		if hit == nil {
			return cand, nil
		}
		end := lastAddr(cand)
		if hit.Bits() < 64 {
			end = lastAddr(*hit)
		}
		next := end.Next()
		if !next.IsValid() {
			break
		}
		cand = netip.PrefixFrom(next, 64)
	}
	return netip.Prefix{}, errPools6Exhausted
}

func ip4(a netip.Addr) uint64 {
	b := a.As4()
	return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
}

func addr4(v uint64) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// lastAddr is the last address of p (an IPv4 subnet's broadcast address).
func lastAddr(p netip.Prefix) netip.Addr {
	p = p.Masked()
	if p.Addr().Is4() {
		return addr4(ip4(p.Addr()) + uint64(1)<<(32-p.Bits()) - 1)
	}
	b := p.Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom16(b)
}

// reservedEnd reports whether a is an end of subnet that no endpoint may
// have: the network address, and in IPv4 the broadcast address (in IPv6
// the first is the subnet-router anycast address; there is no broadcast).
func reservedEnd(subnet netip.Prefix, a netip.Addr) bool {
	return a == subnet.Addr() || a.Is4() && a == lastAddr(subnet)
}

// pool is one network's addresses of one family: what is handed out, to
// whom, and where the last allocation stopped. Allocation goes on from
// there and wraps (as dockerd's bit sequence), so a freed address is not
// handed out again soon. It is stored inside the network's record.
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
	if !subnet.IsValid() {
		return nil, fmt.Errorf("invalid subnet %s", subnet)
	}
	if subnet.Bits() > subnet.Addr().BitLen()-2 {
		return nil, fmt.Errorf("invalid subnet %s : mask too long", subnet)
	}
	subnet = subnet.Masked()
	if !ipRange.IsValid() {
		ipRange = subnet
	}
	ipRange = ipRange.Masked()
	if ipRange.Addr().Is4() != subnet.Addr().Is4() || !subnet.Contains(ipRange.Addr()) || ipRange.Bits() < subnet.Bits() {
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
	if !p.Subnet.Contains(a) || reservedEnd(p.Subnet, a) {
		return fmt.Errorf("invalid address %s: it does not belong to any of this network's subnets", a)
	}
	if cur, ok := p.Alloc[a]; ok && cur != owner {
		return errAddrInUse
	}
	p.Alloc[a] = owner
	return nil
}

// allocate hands out the next free address of the range after the last
// one given, wrapping once; ok is false when the range is full. At most
// len(Alloc)+3 candidates are looked at (the used ones and the subnet's
// ends can be skipped, the next is free), so an IPv6 /64 costs no more
// than an IPv4 /24.
func (p *pool) allocate(owner string) (netip.Addr, bool) {
	first, last := p.Range.Addr(), lastAddr(p.Range)
	tries := uint64(len(p.Alloc) + 3)
	if hostBits := p.Range.Addr().BitLen() - p.Range.Bits(); hostBits < 63 && uint64(1)<<hostBits < tries {
		tries = uint64(1) << hostBits
	}
	a := first
	if p.Last.IsValid() && p.Range.Contains(p.Last) && p.Last != last {
		a = p.Last.Next()
	}
	for i := uint64(0); i < tries; i++ {
		if _, used := p.Alloc[a]; !used && !reservedEnd(p.Subnet, a) {
			p.Alloc[a] = owner
			p.Last = a
			return a, true
		}
		if a == last {
			a = first
		} else {
			a = a.Next()
		}
	}
	return netip.Addr{}, false
}

// release frees an address if owner holds it.
func (p *pool) release(a netip.Addr, owner string) {
	if p.Alloc[a] == owner {
		delete(p.Alloc, a)
	}
}
