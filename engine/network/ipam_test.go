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
		"90/tcp": {{HostIP: "::1", HostPort: "9090"}}, // IPv6: not served
	}, nat.PortSet{"80/tcp": {}, "443/tcp": {}}, true)
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
	if _, err := wantedPorts(nat.PortMap{"80/tcp": {{HostPort: "x"}}}, nil, false); err == nil {
		t.Error("a bad host port was accepted")
	}
}
