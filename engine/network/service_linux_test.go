package network

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/wharf-project/wharf/engine/errdefs"
)

func TestNetworksAPI(t *testing.T) {
	ns := testNS(t)
	ctx := context.Background()
	// Forwarding off as on a fresh host: Open turns it on, Close back off.
	if err := writeSysctl(int(nsHandle(t, ns)), "net/ipv4/ip_forward", "0"); err != nil {
		t.Fatal(err)
	}
	s := openService(t, ns, t.TempDir(), nil)
	if v, _ := readSysctl(int(nsHandle(t, ns)), "net/ipv4/ip_forward"); strings.TrimSpace(v) != "1" {
		t.Errorf("ip_forward is %q after Open", v)
	}

	list, err := s.List(ctx, filters.NewArgs())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range list {
		got = append(got, n.Name+"/"+n.Driver)
	}
	if strings.Join(got, ",") != "bridge/bridge,host/host,none/null" {
		t.Fatalf("predefined networks %v", got)
	}
	h, err := netlink.NewHandleAt(nsHandle(t, ns))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	br, err := s.Inspect(ctx, "bridge")
	if err != nil {
		t.Fatal(err)
	}
	if br.IPAM.Config[0].Subnet != "172.17.0.0/16" || br.IPAM.Config[0].Gateway != "172.17.0.1" || br.Options["com.docker.network.bridge.name"] != "wt0" {
		t.Fatalf("default bridge %+v", br)
	}

	// Without containers on it, the default bridge's device is not made,
	// and without networks in use there is no nftables table.
	if _, err := h.LinkByName("wt0"); err == nil {
		t.Error("the default bridge exists before any container joined it")
	}
	if n := countTables(t, ns); n != 0 {
		t.Errorf("%d nftables tables before any network was made", n)
	}

	res, err := s.Create(ctx, network.CreateRequest{Name: "mynet", CreateOptions: network.CreateOptions{Labels: map[string]string{"k": "v"}}})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := s.Inspect(ctx, res.ID[:6])
	if err != nil {
		t.Fatal(err)
	}
	if n := countTables(t, ns); n != 1 {
		t.Errorf("%d nftables tables with a network, want 1", n)
	}
	if mine.Name != "mynet" || mine.IPAM.Config[0].Subnet != "172.18.0.0/16" || mine.Scope != "local" || mine.Driver != "bridge" {
		t.Fatalf("mynet %+v", mine)
	}
	link, err := h.LinkByName("br-" + res.ID[:12])
	if err != nil {
		t.Fatalf("bridge of mynet: %v", err)
	}
	addrs, _ := h.AddrList(link, netlink.FAMILY_V4)
	if len(addrs) != 1 || addrs[0].IPNet.String() != "172.18.0.1/16" {
		t.Fatalf("bridge addresses %v", addrs)
	}

	_, err = s.Create(ctx, network.CreateRequest{Name: "mynet"})
	wantErr(t, err, errdefs.IsConflict, "network with name mynet already exists")
	_, err = s.Create(ctx, network.CreateRequest{Name: "other", CreateOptions: network.CreateOptions{IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: "172.18.3.0/24"}}}}})
	wantErr(t, err, errdefs.IsForbidden, "Pool overlaps with other one on this address space")
	_, err = s.Create(ctx, network.CreateRequest{Name: "other", CreateOptions: network.CreateOptions{Driver: "overlay"}})
	wantErr(t, err, errdefs.IsNotFound, "plugin not found")
	_, err = s.Create(ctx, network.CreateRequest{Name: "other", CreateOptions: network.CreateOptions{IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: "10.1.0.0/16", Gateway: "10.2.0.1"}}}}})
	wantErr(t, err, errdefs.IsInvalidParameter, "not in subnet")
	wantErr(t, s.Remove(ctx, "bridge"), errdefs.IsForbidden, "bridge is a pre-defined network and cannot be removed")
	wantErr(t, s.Remove(ctx, "nosuch"), errdefs.IsNotFound, "network nosuch not found")

	custom, err := s.Create(ctx, network.CreateRequest{Name: "fixed", CreateOptions: network.CreateOptions{Internal: true,
		IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: "10.77.0.0/16", IPRange: "10.77.9.0/24", Gateway: "10.77.0.254"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	fx, _ := s.Inspect(ctx, custom.ID)
	if c := fx.IPAM.Config[0]; c.Subnet != "10.77.0.0/16" || c.IPRange != "10.77.9.0/24" || c.Gateway != "10.77.0.254" || !fx.Internal {
		t.Fatalf("fixed %+v", fx)
	}

	for _, c := range []struct {
		f    filters.Args
		want string
	}{
		{filters.NewArgs(filters.Arg("type", "custom")), "fixed,mynet"},
		{filters.NewArgs(filters.Arg("type", "builtin"), filters.Arg("driver", "bridge")), "bridge"},
		{filters.NewArgs(filters.Arg("label", "k=v")), "mynet"},
		{filters.NewArgs(filters.Arg("name", "fix")), "fixed"},
		{filters.NewArgs(filters.Arg("id", res.ID)), "mynet"},
		{filters.NewArgs(filters.Arg("dangling", "true")), "fixed,mynet"},
	} {
		l, err := s.List(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, n := range l {
			names = append(names, n.Name)
		}
		if strings.Join(names, ",") != c.want {
			t.Errorf("filter %v: %v, want %s", c.f, names, c.want)
		}
	}
	_, err = s.List(ctx, filters.NewArgs(filters.Arg("nope", "x")))
	wantErr(t, err, errdefs.IsInvalidParameter, "invalid filter")

	rep, err := s.Prune(ctx, filters.NewArgs(filters.Arg("label", "k=v")))
	if err != nil || strings.Join(rep.NetworksDeleted, ",") != "mynet" {
		t.Fatalf("prune: %v %v", rep, err)
	}
	if _, err := h.LinkByName("br-" + res.ID[:12]); err == nil {
		t.Fatal("the pruned network's bridge is still there")
	}
	if err := s.Remove(ctx, "fixed"); err != nil {
		t.Fatal(err)
	}

	// Close leaves the namespace as it was: no bridge, no table.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.LinkByName("wt0"); err == nil {
		t.Error("default bridge left after Close")
	}
	if n := countTables(t, ns); n != 0 {
		t.Errorf("nftables tables left after Close: %d", n)
	}
	if v, _ := readSysctl(int(nsHandle(t, ns)), "net/ipv4/ip_forward"); strings.TrimSpace(v) != "0" {
		t.Errorf("ip_forward left at %q", v)
	}
}

func countTables(t *testing.T, ns string) int {
	t.Helper()
	c, err := nftables.New(nftables.WithNetNSFd(int(nsHandle(t, ns))))
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ListTables()
	if err != nil {
		t.Fatal(err)
	}
	return len(tables)
}

func wantErr(t *testing.T, err error, class func(error) bool, msg string) {
	t.Helper()
	if err == nil || !class(err) || !strings.Contains(err.Error(), msg) {
		t.Errorf("error %v (%T), want one containing %q of the right class", err, err, msg)
	}
}

func nsHandle(t *testing.T, path string) netns.NsHandle {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return netns.NsHandle(f.Fd())
}

// outside makes a namespace wired to the test's host namespace by a veth
// (host 198.18.0.1/30, outside 198.18.0.2/30): a stand-in for the world
// beyond the host, so NAT is tested without leaving the machine.
func outside(t *testing.T, host string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "outside-ns")
	hf, _ := os.Open(host)
	defer hf.Close()
	if err := createNetns(int(hf.Fd()), path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = removeNetns(path) })
	h, err := netlink.NewHandleAt(netns.NsHandle(hf.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	of, _ := os.Open(path)
	defer of.Close()
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "wt-out"}, PeerName: "eth0", PeerNamespace: netlink.NsFd(of.Fd())}); err != nil {
		t.Fatal(err)
	}
	l, _ := h.LinkByName("wt-out")
	_ = h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(netip.MustParsePrefix("198.18.0.1/30"))})
	_ = h.LinkSetUp(l)
	oh, err := netlink.NewHandleAt(netns.NsHandle(of.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer oh.Close()
	ol, err := oh.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	_ = oh.AddrAdd(ol, &netlink.Addr{IPNet: ipNet(netip.MustParsePrefix("198.18.0.2/30"))})
	if err := oh.LinkSetUp(ol); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSandboxes(t *testing.T) {
	host := testNS(t)
	out := outside(t, host)
	up := fakeUpstream(t)
	ctx := context.Background()
	s := openService(t, host, t.TempDir(), func(c *Config) { c.DNS = []string{up} })
	a, err := s.Create(ctx, network.CreateRequest{Name: "neta"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, network.CreateRequest{Name: "netb"}); err != nil {
		t.Fatal(err)
	}
	reg := func(id, mode string, es map[string]*network.EndpointSettings) {
		t.Helper()
		if err := s.Register(ctx, id, mode, es); err != nil {
			t.Fatal(err)
		}
	}
	reg("c1", "neta", nil)
	reg("c2", "neta", map[string]*network.EndpointSettings{"neta": {Aliases: []string{"web"}}})
	reg("c3", "netb", nil)
	reg("c4", "bridge", nil)
	wantErr(t, s.Register(ctx, "c5", "nosuch", nil), errdefs.IsNotFound, "network nosuch not found")

	joined := map[string]*Joined{}
	for _, id := range []string{"c1", "c2", "c3", "c4"} {
		req := JoinRequest{ContainerID: id, Name: id, Hostname: id}
		if id == "c2" {
			req.PortBindings = nat.PortMap{"80/tcp": {{HostPort: ""}}}
		}
		j, err := s.Join(ctx, req)
		if err != nil {
			t.Fatalf("join %s: %v", id, err)
		}
		t.Cleanup(func() { s.Leave(ctx, id) })
		joined[id] = j
		serveName(t, j.NetnsPath, ":80", id)
	}
	if !joined["c1"].EmbeddedDNS || joined["c4"].EmbeddedDNS {
		t.Fatal("embedded DNS is for user networks only")
	}
	ip := func(id string) string { return joined[id].Addr.String() }
	if ip("c1") != "172.18.0.2" || ip("c2") != "172.18.0.3" || ip("c3") != "172.19.0.2" || ip("c4") != "172.17.0.2" {
		t.Fatalf("addresses %s %s %s %s", ip("c1"), ip("c2"), ip("c3"), ip("c4"))
	}

	// Same network: reachable, by name and alias through 127.0.0.11.
	if got, err := fetch(t, joined["c1"].NetnsPath, ip("c2")+":80", 10*time.Second); err != nil || !strings.HasPrefix(got, "c2 172.18.0.2:") {
		t.Fatalf("c1 -> c2: %q %v", got, err)
	}
	for _, name := range []string{"c2", "web", "WEB", "c2.neta"} {
		rc, addrs := query(t, joined["c1"].NetnsPath, "127.0.0.11:53", name)
		if rc != 0 || len(addrs) != 1 || addrs[0].String() != ip("c2") {
			t.Errorf("c1 resolving %s: %v %v", name, rc, addrs)
		}
	}
	// c3 is on another network: not a name here, so forwarded upstream.
	if rc, addrs := query(t, joined["c1"].NetnsPath, "127.0.0.11:53", "c3"); rc != 0 || len(addrs) != 1 || addrs[0].String() != "192.0.2.7" {
		t.Errorf("c1 resolving c3 (forwarded): %v %v", rc, addrs)
	}
	// Port 53 itself stays free for the container's programs.
	serveName(t, joined["c1"].NetnsPath, "0.0.0.0:53", "own-dns")

	// Different networks are isolated.
	if got, err := fetch(t, joined["c1"].NetnsPath, ip("c3")+":80", 2*time.Second); err == nil {
		t.Fatalf("c1 reached c3 on another network: %q", got)
	}
	if got, err := fetch(t, joined["c4"].NetnsPath, ip("c1")+":80", 2*time.Second); err == nil {
		t.Fatalf("c4 on the default bridge reached c1: %q", got)
	}

	// The published port: from the host's loopback, from a container on
	// another network through its gateway, from the same network
	// (hairpin), from the container itself.
	_, ports, _ := s.Settings("c2", nil, nil)
	hp := ports["80/tcp"]
	if len(hp) != 1 || hp[0].HostIP != "0.0.0.0" || hp[0].HostPort == "" || hp[0].HostPort == "0" {
		t.Fatalf("ports %v", ports)
	}
	for _, c := range []struct{ from, addr string }{
		{host, "127.0.0.1"}, {host, "172.17.0.1"}, {joined["c3"].NetnsPath, "172.19.0.1"},
		{joined["c1"].NetnsPath, "172.18.0.1"}, {joined["c2"].NetnsPath, "172.18.0.1"},
	} {
		if got, err := fetch(t, c.from, c.addr+":"+hp[0].HostPort, 10*time.Second); err != nil || !strings.HasPrefix(got, "c2 ") {
			t.Errorf("published port via %s from %s: %q %v", c.addr, filepath.Base(c.from), got, err)
		}
	}
	// The host port is held: nobody else can bind it.
	if err := inNS(t, host, func() error {
		l, err := net.Listen("tcp4", "0.0.0.0:"+hp[0].HostPort)
		if err == nil {
			l.Close()
			return errors.New("bound")
		}
		return nil
	}); err != nil {
		t.Error("the published host port could be bound by another program")
	}

	// Outbound NAT: the outside world sees the host's address.
	serveName(t, out, "198.18.0.2:8080", "outside")
	if got, err := fetch(t, joined["c4"].NetnsPath, "198.18.0.2:8080", 10*time.Second); err != nil || !strings.HasPrefix(got, "outside 198.18.0.1:") {
		t.Fatalf("c4 -> outside: %q %v", got, err)
	}
	if got, err := fetch(t, joined["c1"].NetnsPath, "198.18.0.2:8080", 10*time.Second); err != nil || !strings.HasPrefix(got, "outside 198.18.0.1:") {
		t.Fatalf("c1 -> outside: %q %v", got, err)
	}

	// Connect c1 to netb while it runs: eth1, and c3 is reachable now.
	if err := s.Connect(ctx, "netb", "c1", &network.EndpointSettings{Aliases: []string{"one"}}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Connect(ctx, "netb", "c1", nil), errdefs.IsForbidden, "already exists in network netb")
	if got, err := fetch(t, joined["c1"].NetnsPath, ip("c3")+":80", 10*time.Second); err != nil || !strings.HasPrefix(got, "c3 ") {
		t.Fatalf("c1 -> c3 after connect: %q %v", got, err)
	}
	if rc, addrs := query(t, joined["c3"].NetnsPath, "127.0.0.11:53", "one"); rc != 0 || len(addrs) != 1 || addrs[0].String() != "172.19.0.3" {
		t.Errorf("c3 resolving c1's alias on netb: %v %v", rc, addrs)
	}
	nets, _, key := s.Settings("c1", nil, nil)
	if nets["netb"] == nil || nets["netb"].IPAddress != "172.19.0.3" || nets["neta"].Gateway != "172.18.0.1" || key != joined["c1"].NetnsPath {
		t.Fatalf("settings of c1: %+v %s", nets, key)
	}
	insp, _ := s.Inspect(ctx, "neta")
	if len(insp.Containers) != 2 || insp.Containers["c2"].IPv4Address != "172.18.0.3/16" || insp.Containers["c2"].MacAddress != "02:42:ac:12:00:03" {
		t.Fatalf("neta containers %+v", insp.Containers)
	}
	wantErr(t, s.Remove(ctx, a.ID), errdefs.IsForbidden, "has active endpoints")
	if err := s.Disconnect(ctx, "netb", "c1", false); err != nil {
		t.Fatal(err)
	}
	if got, err := fetch(t, joined["c1"].NetnsPath, ip("c3")+":80", 2*time.Second); err == nil {
		t.Fatalf("c1 reached c3 after disconnect: %q", got)
	}
	wantErr(t, s.Disconnect(ctx, "netb", "c1", false), errdefs.IsForbidden, "is not connected")

	// Leave: veths, namespace and port go; the address is free again.
	s.Leave(ctx, "c2")
	if _, err := os.Stat(joined["c2"].NetnsPath); !os.IsNotExist(err) {
		t.Errorf("namespace file of c2 left: %v", err)
	}
	if err := inNS(t, host, func() error {
		l, err := net.Listen("tcp4", "0.0.0.0:"+hp[0].HostPort)
		if err == nil {
			l.Close()
		}
		return err
	}); err != nil {
		t.Errorf("the host port is still held after leave: %v", err)
	}
	if rc, addrs := query(t, joined["c1"].NetnsPath, "127.0.0.11:53", "web"); rc != 0 || len(addrs) != 1 || addrs[0].String() != "192.0.2.7" {
		t.Errorf("web after c2 left should be forwarded: %v %v", rc, addrs)
	}
	for _, id := range []string{"c1", "c3", "c4"} {
		s.Leave(ctx, id)
	}
	h, _ := netlink.NewHandleAt(nsHandle(t, host))
	defer h.Close()
	links, _ := h.LinkList()
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, "veth") {
			t.Errorf("veth %s left after every container left", l.Attrs().Name)
		}
	}
	// c2 gets its old address back at its next start.
	j, err := s.Join(ctx, JoinRequest{ContainerID: "c2", Name: "c2"})
	if err != nil {
		t.Fatal(err)
	}
	if j.Addr.String() != "172.18.0.3" {
		t.Errorf("c2 restarted with %s, want its old 172.18.0.3", j.Addr)
	}
	s.Forget(ctx, "c2")
	// A container without a record (an older data root) joins by its mode.
	if _, err := s.Join(ctx, JoinRequest{ContainerID: "legacy", Name: "legacy", Mode: "neta"}); err != nil {
		t.Fatalf("join without a record: %v", err)
	}
	s.Forget(ctx, "legacy")
	if err := s.Remove(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
}

// TestRestartAfterCrash opens a second service over the database of one
// that died with a container running: the leftover sandbox is kept until
// DropStale undoes it, networks keep their IDs and subnets, the address
// is free again.
func TestRestartAfterCrash(t *testing.T) {
	host := testNS(t)
	root := t.TempDir()
	unmountNetns(t, root)
	ctx := context.Background()
	cfg := Config{Root: root, ExecRoot: filepath.Join(root, "exec"), NetnsPath: host, Bridge: "wt0", Containers: names{}}
	s1, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s1.Create(ctx, network.CreateRequest{Name: "keep", CreateOptions: network.CreateOptions{
		IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: "10.66.0.0/24"}}}}})
	if err != nil {
		s1.Close()
		t.Fatal(err)
	}
	if err := s1.Register(ctx, "c1", "keep", map[string]*network.EndpointSettings{"keep": {IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: "10.66.0.50"}}}); err != nil {
		s1.Close()
		t.Fatal(err)
	}
	j, err := s1.Join(ctx, JoinRequest{ContainerID: "c1", Name: "c1", PortBindings: nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1", HostPort: "18080"}}}})
	if err != nil {
		s1.Close()
		t.Fatal(err)
	}
	if j.Addr.String() != "10.66.0.50" {
		t.Errorf("static address: %s", j.Addr)
	}
	// The daemon dies: nothing is undone, handles just go.
	s1.crash()

	s2 := openService(t, host, root, nil)
	if _, err := os.Stat(j.NetnsPath); err != nil {
		t.Errorf("the leftover namespace is gone before DropStale: %v", err)
	}
	s2.DropStale()
	if _, err := os.Stat(j.NetnsPath); !os.IsNotExist(err) {
		t.Errorf("leftover namespace still there after DropStale: %v", err)
	}
	n, err := s2.Inspect(ctx, "keep")
	if err != nil || n.ID != res.ID || n.IPAM.Config[0].Subnet != "10.66.0.0/24" {
		t.Fatalf("network after restart: %+v %v", n, err)
	}
	j2, err := s2.Join(ctx, JoinRequest{ContainerID: "c1", Name: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Leave(ctx, "c1")
	if j2.Addr.String() != "10.66.0.50" {
		t.Errorf("address after restart: %s", j2.Addr)
	}
	// A second container asking for the same address is refused.
	if err := s2.Register(ctx, "c2", "keep", map[string]*network.EndpointSettings{"keep": {IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: "10.66.0.50"}}}); err != nil {
		t.Fatal(err)
	}
	_, err = s2.Join(ctx, JoinRequest{ContainerID: "c2", Name: "c2"})
	wantErr(t, err, errdefs.IsConflict, "Address already in use")
	// A port someone holds is refused with dockerd's message.
	if err := s2.Register(ctx, "c3", "keep", nil); err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	if err := inNS(t, host, func() (err error) { l, err = net.Listen("tcp4", "127.0.0.1:0"); return err }); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = s2.Join(ctx, JoinRequest{ContainerID: "c3", Name: "c3", PortBindings: nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1", HostPort: itoa(port)}}}})
	wantErr(t, err, errdefs.IsSystem, "Error starting userland proxy: listen tcp4 127.0.0.1:"+itoa(port)+": bind: address already in use")
	if _, err := os.Stat(filepath.Join(root, "exec", "netns", "c3")); !os.IsNotExist(err) {
		t.Errorf("a failed join left its namespace: %v", err)
	}
	// Held by another container of this daemon: dockerd's allocator message;
	// a whole range held: its other message; an unknown protocol: its 500.
	l.Close()
	bind := func(id string, pm nat.PortMap) error {
		if err := s2.Register(ctx, id, "keep", nil); err != nil {
			t.Fatal(err)
		}
		j, err := s2.Join(ctx, JoinRequest{ContainerID: id, Name: id, PortBindings: pm})
		if err == nil {
			t.Cleanup(func() { s2.Leave(ctx, id) })
			_ = j
		}
		return err
	}
	if err := bind("c4", nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1", HostPort: itoa(port)}}}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, bind("c5", nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1", HostPort: itoa(port)}}}), errdefs.IsSystem,
		"driver failed programming external connectivity on endpoint c5 (")
	wantErr(t, bind("c5", nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1", HostPort: itoa(port)}}}), errdefs.IsSystem,
		"): Bind for 127.0.0.1:"+itoa(port)+" failed: port is already allocated")
	// (port+1 is held too, by us or, if we cannot bind it, by someone.)
	var l2 net.Listener
	if err := inNS(t, host, func() (err error) { l2, err = net.Listen("tcp4", "127.0.0.1:"+itoa(port+1)); return err }); err == nil {
		defer l2.Close()
	}
	wantErr(t, bind("c5", nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1", HostPort: itoa(port) + "-" + itoa(port+1)}}}),
		errdefs.IsSystem, "): all ports are allocated")
	wantErr(t, bind("c5", nat.PortMap{"80/xyz": {{HostPort: "8080"}}}), errdefs.IsSystem, "invalid transport protocol: 0")
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestInternalNetwork: containers on an --internal network reach each
// other but have no route out, and publish nothing.
func TestInternalNetwork(t *testing.T) {
	host := testNS(t)
	out := outside(t, host)
	ctx := context.Background()
	s := openService(t, host, t.TempDir(), nil)
	if _, err := s.Create(ctx, network.CreateRequest{Name: "inner", CreateOptions: network.CreateOptions{Internal: true}}); err != nil {
		t.Fatal(err)
	}
	joined := map[string]*Joined{}
	for _, id := range []string{"i1", "i2"} {
		if err := s.Register(ctx, id, "inner", nil); err != nil {
			t.Fatal(err)
		}
		j, err := s.Join(ctx, JoinRequest{ContainerID: id, Name: id, PortBindings: nat.PortMap{"80/tcp": {{}}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Forget(ctx, id) })
		joined[id] = j
		serveName(t, j.NetnsPath, ":80", id)
	}
	if got, err := fetch(t, joined["i1"].NetnsPath, joined["i2"].Addr.String()+":80", 10*time.Second); err != nil || !strings.HasPrefix(got, "i2 ") {
		t.Fatalf("i1 -> i2 on the internal network: %q %v", got, err)
	}
	h, err := netlink.NewHandleAt(nsHandle(t, joined["i1"].NetnsPath))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	routes, _ := h.RouteList(nil, netlink.FAMILY_V4)
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			t.Errorf("default route on an internal network: %+v", r)
		}
	}
	// Even with a route added by hand, the host drops it.
	gw := netip.MustParseAddr(joined["i1"].Addr.String()).As4()
	gw[3] = 1
	if err := h.RouteAdd(&netlink.Route{Dst: ipNet(netip.MustParsePrefix("198.18.0.0/30")), Gw: gw[:]}); err != nil {
		t.Fatal(err)
	}
	serveName(t, out, "198.18.0.2:8080", "outside")
	if got, err := fetch(t, joined["i1"].NetnsPath, "198.18.0.2:8080", 2*time.Second); err == nil {
		t.Fatalf("an internal network reached outside: %q", got)
	}
	if _, ports, _ := s.Settings("i1", nil, nat.PortMap{"80/tcp": {{}}}); len(ports["80/tcp"]) != 0 {
		t.Errorf("an internal network published %v", ports)
	}
}

// TestPublishedUDPPort: a UDP port published on loopback answers from the
// host's loopback.
func TestPublishedUDPPort(t *testing.T) {
	host := testNS(t)
	ctx := context.Background()
	s := openService(t, host, t.TempDir(), nil)
	if err := s.Register(ctx, "u1", "bridge", nil); err != nil {
		t.Fatal(err)
	}
	j, err := s.Join(ctx, JoinRequest{ContainerID: "u1", Name: "u1", PortBindings: nat.PortMap{"5353/udp": {{HostIP: "127.0.0.1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Forget(ctx, "u1") })
	var pc net.PacketConn
	if err := inNS(t, j.NetnsPath, func() (err error) { pc, err = net.ListenPacket("udp4", ":5353"); return err }); err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(append([]byte("echo:"), buf[:n]...), from)
		}
	}()
	_, ports, _ := s.Settings("u1", nil, nil)
	b := ports["5353/udp"]
	if len(b) != 1 || b[0].HostIP != "127.0.0.1" {
		t.Fatalf("ports %v", ports)
	}
	var c net.Conn
	if err := inNS(t, host, func() (err error) { c, err = net.Dial("udp4", "127.0.0.1:"+b[0].HostPort); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := c.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "echo:hi" {
		t.Fatalf("udp reply %q %v", buf[:n], err)
	}
}

// TestBridgeClaimed: a second daemon on the same default bridge name is
// refused instead of handing out the first one's addresses again.
func TestBridgeClaimed(t *testing.T) {
	host := testNS(t)
	ctx := context.Background()
	s1 := openService(t, host, t.TempDir(), nil)
	s2 := openService(t, host, t.TempDir(), func(c *Config) { c.Table = "wharf-second" })
	for _, s := range []*Service{s1, s2} {
		if err := s.Register(ctx, "c", "bridge", nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s1.Join(ctx, JoinRequest{ContainerID: "c", Name: "c"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s1.Forget(ctx, "c") })
	_, err := s2.Join(ctx, JoinRequest{ContainerID: "c", Name: "c"})
	wantErr(t, err, errdefs.IsSystem, "bridge wt0 is in use by another wharf daemon")
}
