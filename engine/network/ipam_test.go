package network

import (
	"net/netip"
	"testing"

	"github.com/docker/go-connections/nat"
)

func TestPickSubnetSkipsTaken(t *testing.T) {
	p, err := pickSubnet(nil)
	if err != nil || p.String() != "172.17.0.0/16" {
		t.Fatalf("first pool = %v, %v; want 172.17.0.0/16", p, err)
	}
	taken := []netip.Prefix{netip.MustParsePrefix("172.17.0.0/16"), netip.MustParsePrefix("172.18.5.0/24")}
	if p, _ = pickSubnet(taken); p.String() != "172.19.0.0/16" {
		t.Fatalf("with 172.17/16 and 172.18.5/24 taken got %v, want 172.19.0.0/16", p)
	}
	// A wide route over all of 172.16/12 moves to 192.168.
	if p, _ = pickSubnet([]netip.Prefix{netip.MustParsePrefix("172.16.0.0/12")}); p.String() != "192.168.0.0/20" {
		t.Fatalf("with 172.16/12 taken got %v, want 192.168.0.0/20", p)
	}
	if _, err := pickSubnet([]netip.Prefix{netip.MustParsePrefix("0.0.0.0/1"), netip.MustParsePrefix("128.0.0.0/1")}); err != errPoolsExhausted {
		t.Fatalf("everything taken: err = %v", err)
	}
}

func TestPoolAllocatesInTurnAndWraps(t *testing.T) {
	p, err := newPool(netip.MustParsePrefix("10.9.0.0/29"), netip.Prefix{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Gateway.String() != "10.9.0.1" {
		t.Fatalf("gateway %s, want 10.9.0.1", p.Gateway)
	}
	var got []string
	for i := 0; i < 5; i++ {
		a, ok := p.allocate("c")
		if !ok {
			t.Fatalf("allocation %d failed", i)
		}
		got = append(got, a.String())
	}
	want := []string{"10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allocations %v, want %v", got, want)
		}
	}
	if _, ok := p.allocate("c"); ok {
		t.Fatal("a /29 has 5 host addresses besides the gateway; the 6th allocation succeeded")
	}
	// A freed address comes back only after the ones after it.
	p.release(netip.MustParseAddr("10.9.0.3"), "c")
	p.release(netip.MustParseAddr("10.9.0.4"), "other") // not its owner: kept
	if a, ok := p.allocate("d"); !ok || a.String() != "10.9.0.3" {
		t.Fatalf("after wrap got %v %v, want 10.9.0.3", a, ok)
	}
	if err := p.reserve(netip.MustParseAddr("10.9.0.3"), "e"); err != errAddrInUse {
		t.Fatalf("reserve of a used address: %v", err)
	}
	if err := p.reserve(netip.MustParseAddr("10.9.0.7"), "e"); err == nil {
		t.Fatal("the broadcast address was reserved")
	}
}

func TestPoolRangeAndChecks(t *testing.T) {
	p, err := newPool(netip.MustParsePrefix("10.8.0.0/16"), netip.MustParsePrefix("10.8.5.0/24"), netip.MustParseAddr("10.8.0.254"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := p.allocate("c"); a.String() != "10.8.5.0" { // as dockerd: only the subnet's ends are excluded
		t.Fatalf("first address of range = %s", a)
	}
	for _, c := range []struct{ subnet, rng, gw string }{
		{"10.8.0.0/16", "10.9.0.0/24", ""},
		{"10.8.0.0/16", "", "10.9.0.1"},
		{"10.8.0.0/16", "", "10.8.0.0"},
		{"10.8.0.0/31", "", ""},
	} {
		var rng netip.Prefix
		var gw netip.Addr
		if c.rng != "" {
			rng = netip.MustParsePrefix(c.rng)
		}
		if c.gw != "" {
			gw = netip.MustParseAddr(c.gw)
		}
		if _, err := newPool(netip.MustParsePrefix(c.subnet), rng, gw); err == nil {
			t.Errorf("newPool(%v) accepted", c)
		}
	}
}

func TestWantedPorts(t *testing.T) {
	ws, err := wantedPorts(nat.PortMap{
		"80/tcp": {{HostIP: "127.0.0.1", HostPort: "8080"}},
		"53/udp": {{HostPort: "5300-5310"}},
		"90/tcp": {{HostIP: "::1", HostPort: "9090"}}, // IPv6: not served without an IPv6 address
	}, nat.PortSet{"80/tcp": {}, "443/tcp": {}}, true, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 3 {
		t.Fatalf("got %+v", ws)
	}
	if w := ws[0]; w.CtrPort != 53 || w.Proto != "udp" || w.HostLo != 5300 || w.HostHi != 5310 {
		t.Errorf("first %+v", w)
	}
	if w := ws[1]; w.CtrPort != 80 || w.HostIP.String() != "127.0.0.1" || w.HostLo != 8080 {
		t.Errorf("second %+v", w)
	}
	if w := ws[2]; w.CtrPort != 443 || w.HostLo != 0 || !w.HostIP.IsUnspecified() {
		t.Errorf("-P port %+v", w)
	}
	if _, err := wantedPorts(nat.PortMap{"80/tcp": {{HostPort: "x"}}}, nil, false, false); err == nil {
		t.Error("a bad host port was accepted")
	}
	// With an IPv6 address: the IPv6 binding is served, and one without
	// a host address is on both families.
	ws, err = wantedPorts(nat.PortMap{
		"80/tcp": {{HostIP: "127.0.0.1", HostPort: "8080"}, {HostPort: "8081"}},
		"90/tcp": {{HostIP: "::1", HostPort: "9090"}},
	}, nil, false, true)
	if err != nil || len(ws) != 3 {
		t.Fatalf("with IPv6: %+v %v", ws, err)
	}
	if ws[0].Also6 || !ws[1].Also6 || ws[1].HostLo != 8081 || ws[2].HostIP.String() != "::1" || ws[2].Also6 {
		t.Errorf("with IPv6: %+v", ws)
	}
}

func TestPool6(t *testing.T) {
	p, err := newPool(netip.MustParsePrefix("fd12:3456::/64"), netip.Prefix{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Gateway.String() != "fd12:3456::1" {
		t.Fatalf("gateway %s", p.Gateway)
	}
	for _, want := range []string{"fd12:3456::2", "fd12:3456::3"} {
		if a, ok := p.allocate("c"); !ok || a.String() != want {
			t.Fatalf("allocate: %v %v, want %s", a, ok, want)
		}
	}
	// The last address of an IPv6 subnet is an address like another.
	last := netip.MustParseAddr("fd12:3456::ffff:ffff:ffff:ffff")
	if lastAddr(p.Subnet) != last {
		t.Fatalf("last address %s", lastAddr(p.Subnet))
	}
	if err := p.reserve(last, "d"); err != nil {
		t.Fatal(err)
	}
	if err := p.reserve(netip.MustParseAddr("fd12:3456::"), "d"); err == nil {
		t.Fatal("the subnet-router anycast address was reserved")
	}
	// After the last address it wraps to the start, skipping what is used.
	p.Last = last
	if a, ok := p.allocate("e"); !ok || a.String() != "fd12:3456::4" {
		t.Fatalf("after wrap: %v %v", a, ok)
	}
	// A small range fills up.
	q, err := newPool(netip.MustParsePrefix("fd00:1::/126"), netip.Prefix{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; n < 10; n++ {
		if _, ok := q.allocate("x"); !ok {
			break
		}
	}
	if n != 2 { // ::0 is the anycast address, ::1 the gateway; ::2 and ::3
		t.Fatalf("a /126 gave %d addresses", n)
	}
	if _, err := newPool(netip.MustParsePrefix("fd00:1::/127"), netip.Prefix{}, netip.Addr{}); err == nil {
		t.Fatal("a /127 was accepted")
	}
}

func TestPickSubnet6(t *testing.T) {
	if p, err := pickSubnet6(nil); err != nil || p.String() != "fd00::/64" {
		t.Fatalf("first: %v %v", p, err)
	}
	taken := []netip.Prefix{netip.MustParsePrefix("fd00::/64"), netip.MustParsePrefix("fd00:0:0:1::/80"), netip.MustParsePrefix("fd00:0:0:2::/56")}
	if p, err := pickSubnet6(taken); err != nil || p.String() != "fd00:0:0:100::/64" {
		t.Fatalf("with %v taken: %v %v", taken, p, err)
	}
	if _, err := pickSubnet6([]netip.Prefix{netip.MustParsePrefix("fc00::/7")}); err != errPools6Exhausted {
		t.Fatalf("all of it taken: %v", err)
	}
}

func TestPtrAddr(t *testing.T) {
	for name, want := range map[string]string{
		"4.3.2.1.in-addr.arpa": "1.2.3.4",
		"2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.5.4.3.2.1.d.f.ip6.arpa": "fd12:3456::2",
	} {
		if a, ok := ptrAddr(name); !ok || a.String() != want {
			t.Errorf("ptrAddr(%s) = %v %v, want %s", name, a, ok, want)
		}
	}
	for _, name := range []string{"1.2.3.in-addr.arpa", "x.ip6.arpa", "example.com"} {
		if a, ok := ptrAddr(name); ok {
			t.Errorf("ptrAddr(%s) = %v", name, a)
		}
	}
}
