package network

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// requireIPv6 skips on a kernel without IPv6 (booted with ipv6.disable=1).
func requireIPv6(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/proc/sys/net/ipv6"); err != nil {
		t.Skip("the kernel has no IPv6 (/proc/sys/net/ipv6 missing)")
	}
}

// outside6 wires a namespace to the test's host namespace with IPv6
// documentation addresses (host 2001:db8:1::1/64, outside 2001:db8:1::2/64,
// no duplicate address detection): the world beyond the host, for NAT
// tests that never leave the machine.
func outside6(t *testing.T, host string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "outside6-ns")
	hf, _ := os.Open(host)
	defer hf.Close()
	if err := createNetns(int(hf.Fd()), path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = removeNetns(path) })
	of, _ := os.Open(path)
	defer of.Close()
	for _, side := range []struct {
		ns   *os.File
		name string
		addr string
	}{{hf, "wt-out6", "2001:db8:1::1/64"}, {of, "eth0", "2001:db8:1::2/64"}} {
		h, err := netlink.NewHandleAt(netns.NsHandle(side.ns.Fd()))
		if err != nil {
			t.Fatal(err)
		}
		if side.name == "wt-out6" {
			if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "wt-out6"}, PeerName: "eth0", PeerNamespace: netlink.NsFd(of.Fd())}); err != nil {
				t.Fatal(err)
			}
		}
		l, err := h.LinkByName(side.name)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(netip.MustParsePrefix(side.addr)), Flags: unix.IFA_F_NODAD}); err != nil {
			t.Fatal(err)
		}
		if err := h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
		h.Close()
	}
	return path
}

// serve6 listens on [::]:port (both families) in the namespace at path and
// answers each connection with reply and the peer's address.
func serve6(t *testing.T, path, addr, reply string) {
	t.Helper()
	serveOn(t, "tcp", path, addr, reply)
}

// fetch6 dials addr over IPv6 from the namespace at path.
func fetch6(t *testing.T, path, addr string, timeout time.Duration) (string, error) {
	t.Helper()
	return fetchOn(t, "tcp6", path, addr, timeout)
}

// queryAAAA asks the embedded DNS server of the container at path for
// name's AAAA records.
func queryAAAA(t *testing.T, path, name string) []netip.Addr {
	t.Helper()
	m := askDNS(t, path, "127.0.0.11:53", name, dnsmessage.TypeAAAA)
	var out []netip.Addr
	for _, a := range m.Answers {
		if r, ok := a.Body.(*dnsmessage.AAAAResource); ok {
			out = append(out, netip.AddrFrom16(r.AAAA))
		}
	}
	return out
}

// TestIPv6Network: networks with IPv6 (a ULA /64 picked, or the client's
// subnet), containers with IPv6 addresses, routes, AAAA names, isolation,
// a port published on [::] reached from outside and from the host,
// masquerade out, and the host namespace as before once all is gone.
func TestIPv6Network(t *testing.T) {
	requireIPv6(t)
	host := testNS(t)
	out := outside6(t, host)
	ctx := context.Background()
	hostFd := int(nsHandle(t, host))
	if err := writeSysctl(hostFd, "net/ipv6/conf/all/forwarding", "0"); err != nil {
		t.Fatal(err)
	}
	s := openService(t, host, t.TempDir(), nil)
	yes := true
	six, err := s.Create(ctx, network.CreateRequest{Name: "six", CreateOptions: network.CreateOptions{EnableIPv6: &yes}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, network.CreateRequest{Name: "six2", CreateOptions: network.CreateOptions{EnableIPv6: &yes,
		IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: "fd12:3456::/64"}}}}}); err != nil {
		t.Fatal(err)
	}
	in, _ := s.Inspect(ctx, "six")
	if c := in.IPAM.Config; !in.EnableIPv6 || len(c) != 2 || c[1].Subnet != "fd00::/64" || c[1].Gateway != "fd00::1" {
		t.Fatalf("inspect six: %+v", in)
	}
	in2, _ := s.Inspect(ctx, "six2")
	if c := in2.IPAM.Config; len(c) != 2 || c[1].Subnet != "fd12:3456::/64" || c[1].Gateway != "fd12:3456::1" || c[0].Subnet == "" {
		t.Fatalf("inspect six2: %+v", in2.IPAM)
	}
	if v, _ := readSysctl(hostFd, "net/ipv6/conf/all/forwarding"); strings.TrimSpace(v) != "1" {
		t.Errorf("ipv6 forwarding %q with a network with IPv6", v)
	}
	_, err = s.Create(ctx, network.CreateRequest{Name: "six3", CreateOptions: network.CreateOptions{EnableIPv6: &yes,
		IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: "fd12:3456::/80"}}}}})
	wantErr(t, err, errdefs.IsForbidden, "Pool overlaps with other one on this address space")
	_, err = s.Create(ctx, network.CreateRequest{Name: "six5", CreateOptions: network.CreateOptions{EnableIPv6: &yes,
		IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: "fd97::/64"}, {Subnet: "fd96::/64"}}}}})
	wantErr(t, err, errdefs.IsForbidden, "bridge driver doesn't support multiple subnets")
	// An IPv6 subnet without EnableIPv6 is shown and not used, as dockerd 20.10.
	if _, err := s.Create(ctx, network.CreateRequest{Name: "six4", CreateOptions: network.CreateOptions{
		IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: "fd99::/64"}}}}}); err != nil {
		t.Fatal(err)
	}
	if in4, _ := s.Inspect(ctx, "six4"); in4.EnableIPv6 || len(in4.IPAM.Config) != 2 || in4.IPAM.Config[1].Subnet != "fd99::/64" {
		t.Errorf("inspect six4: %+v", in4)
	}
	if err := s.Register(ctx, "c6", "six4", nil); err != nil {
		t.Fatal(err)
	}
	if j, err := s.Join(ctx, JoinRequest{ContainerID: "c6", Name: "c6"}); err != nil || j.Addr6.IsValid() {
		t.Fatalf("join six4: %v %v", j, err)
	}
	s.Forget(ctx, "c6")
	if err := s.Remove(ctx, "six4"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Register(ctx, "bad", "six", map[string]*network.EndpointSettings{"six": {IPAMConfig: &network.EndpointIPAMConfig{IPv6Address: "fd00::9"}}}),
		errdefs.IsInvalidParameter, "user specified IP address is supported only when connecting to networks with user configured subnets")

	for id, mode := range map[string]string{"c1": "six", "c2": "six", "c3": "six2"} {
		var es map[string]*network.EndpointSettings
		if id == "c3" {
			es = map[string]*network.EndpointSettings{"six2": {IPAMConfig: &network.EndpointIPAMConfig{IPv6Address: "fd12:3456::99"}}}
		}
		if err := s.Register(ctx, id, mode, es); err != nil {
			t.Fatal(err)
		}
	}
	joined := map[string]*Joined{}
	for _, id := range []string{"c1", "c2", "c3"} {
		req := JoinRequest{ContainerID: id, Name: id}
		if id == "c2" {
			req.PortBindings = nat.PortMap{"80/tcp": {{}}}
		}
		j, err := s.Join(ctx, req)
		if err != nil {
			t.Fatalf("join %s: %v", id, err)
		}
		t.Cleanup(func() { s.Forget(ctx, id) })
		joined[id] = j
		serve6(t, j.NetnsPath, "[::]:80", id)
	}
	if a := joined["c1"].Addr6.String() + " " + joined["c2"].Addr6.String() + " " + joined["c3"].Addr6.String(); a != "fd00::2 fd00::3 fd12:3456::99" {
		t.Fatalf("IPv6 addresses %s", a)
	}
	// Address and default route inside.
	h, err := netlink.NewHandleAt(nsHandle(t, joined["c1"].NetnsPath))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	routes, _ := h.RouteList(nil, netlink.FAMILY_V6)
	gw := ""
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			gw = r.Gw.String()
		}
	}
	if gw != "fd00::1" {
		t.Errorf("IPv6 default route of c1 via %q, want fd00::1 (%v)", gw, routes)
	}

	// Same network over IPv6, by AAAA name; other networks isolated.
	if got, err := fetch6(t, joined["c1"].NetnsPath, "[fd00::3]:80", 10*time.Second); err != nil || !strings.HasPrefix(got, "c2 [fd00::2]:") {
		t.Fatalf("c1 -> c2 over IPv6: %q %v", got, err)
	}
	if got := queryAAAA(t, joined["c1"].NetnsPath, "c2"); len(got) != 1 || got[0].String() != "fd00::3" {
		t.Errorf("AAAA c2 from c1: %v", got)
	}
	if got, err := fetch6(t, joined["c1"].NetnsPath, "[fd12:3456::99]:80", 2*time.Second); err == nil {
		t.Fatalf("c1 reached c3 on another network over IPv6: %q", got)
	}
	nets, ports, _ := s.Settings("c3", nil, nil)
	if es := nets["six2"]; es == nil || es.GlobalIPv6Address != "fd12:3456::99" || es.GlobalIPv6PrefixLen != 64 || es.IPv6Gateway != "fd12:3456::1" ||
		es.IPAMConfig == nil || es.IPAMConfig.IPv6Address != "fd12:3456::99" {
		t.Errorf("settings of c3: %+v", nets["six2"])
	}
	insp, _ := s.Inspect(ctx, six.ID)
	if insp.Containers["c2"].IPv6Address != "fd00::3/64" {
		t.Errorf("six's containers: %+v", insp.Containers)
	}

	// The published port is on both families; over IPv6 from outside and
	// from the host's own address.
	_, ports, _ = s.Settings("c2", nil, nil)
	hp := ports["80/tcp"]
	if len(hp) != 2 || hp[0].HostIP != "0.0.0.0" || hp[1].HostIP != "::" || hp[0].HostPort != hp[1].HostPort {
		t.Fatalf("ports of c2: %v", ports)
	}
	for _, from := range []string{out, host} {
		if got, err := fetch6(t, from, "[2001:db8:1::1]:"+hp[1].HostPort, 10*time.Second); err != nil || !strings.HasPrefix(got, "c2 ") {
			t.Errorf("published IPv6 port from %s: %q %v", filepath.Base(from), got, err)
		}
	}
	// Masquerade: the outside sees the host's address.
	serve6(t, out, "[2001:db8:1::2]:8080", "outside")
	if got, err := fetch6(t, joined["c1"].NetnsPath, "[2001:db8:1::2]:8080", 10*time.Second); err != nil || !strings.HasPrefix(got, "outside [2001:db8:1::1]:") {
		t.Fatalf("c1 -> outside over IPv6: %q %v", got, err)
	}

	// Both tables exist now; once the IPv6 networks are gone, the ip6 one
	// goes with them, and Close puts forwarding back.
	table := s.cfg.Table
	if !nftTable(t, host, table, nftables.TableFamilyIPv6) || !nftTable(t, host, table, nftables.TableFamilyIPv4) {
		t.Fatalf("tables of %s missing", table)
	}
	for _, id := range []string{"c1", "c2", "c3"} {
		s.Forget(ctx, id)
	}
	for _, n := range []string{"six", "six2"} {
		if err := s.Remove(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if nftTable(t, host, table, nftables.TableFamilyIPv6) {
		t.Errorf("table ip6 %s left without IPv6 networks", table)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v, _ := readSysctl(hostFd, "net/ipv6/conf/all/forwarding"); strings.TrimSpace(v) != "0" {
		t.Errorf("ipv6 forwarding %q after Close, was 0", v)
	}
}

// nftTable reports whether the namespace at path has the table.
func nftTable(t *testing.T, path, name string, fam nftables.TableFamily) bool {
	t.Helper()
	c, err := nftables.New(nftables.WithNetNSFd(int(nsHandle(t, path))))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := c.ListTableOfFamily(name, fam)
	return err == nil && tb != nil
}
