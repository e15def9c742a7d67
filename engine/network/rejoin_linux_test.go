package network

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	"github.com/vishvananda/netlink"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// crashed is a daemon that ran containers and died: its sandboxes are
// left on the host of a test, with a server on port 80 in each (the
// container's program, which outlives the daemon).
type crashed struct {
	host, root, upstream string
	joined               map[string]*Joined
	veths                map[string]string // container ID -> host veth
	ports                map[string]string // container ID -> host port of 80/tcp
	reqs                 map[string]JoinRequest
}

func (c *crashed) config(cfg *Config) { cfg.DNS = []string{c.upstream} }

// crashWith runs containers on a service and crashes it: ctrs maps a
// container ID to its network mode; those in published publish 80/tcp on
// 127.0.0.1 (at the host port given, "" for any).
func crashWith(t *testing.T, ctrs map[string]string, published map[string]string) *crashed {
	t.Helper()
	c := &crashed{host: testNS(t), root: t.TempDir(), upstream: fakeUpstream(t),
		joined: map[string]*Joined{}, veths: map[string]string{}, ports: map[string]string{}, reqs: map[string]JoinRequest{}}
	unmountNetns(t, c.root)
	ctx := context.Background()
	cfg := Config{Root: c.root, ExecRoot: filepath.Join(c.root, "exec"), NetnsPath: c.host, Bridge: "wt0", Containers: names{}}
	c.config(&cfg)
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() }) // a no-op once crashed
	_, err = s.Create(ctx, network.CreateRequest{Name: "usr"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range sortedKeys(ctrs) {
		if err := s.Register(ctx, id, ctrs[id], nil); err != nil {
			t.Fatal(err)
		}
		req := JoinRequest{ContainerID: id, Name: id, Hostname: id}
		if hp, ok := published[id]; ok {
			req.PortBindings = nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1", HostPort: hp}}}
		}
		j, err := s.Join(ctx, req)
		if err != nil {
			t.Fatalf("join %s: %v", id, err)
		}
		c.reqs[id], c.joined[id] = req, j
		serveName(t, j.NetnsPath, ":80", id)
		_, ports, _ := s.Settings(id, nil, nil)
		if b := ports["80/tcp"]; len(b) == 1 {
			c.ports[id] = b[0].HostPort
		}
		s.mu.Lock()
		for _, ep := range s.sandboxes[id].Endpoints {
			c.veths[id] = ep.HostVeth
		}
		s.mu.Unlock()
	}
	s.crash()
	return c
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// owner is who holds an address in the pool of the network whose subnet
// has it ("" for nobody).
func owner(s *Service, a netip.Addr) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.nets {
		if n.Pool != nil && n.Pool.Subnet.Contains(a) {
			return n.Pool.Alloc[a]
		}
	}
	return ""
}

// hasSandboxRecord reports whether the database holds a sandbox for id.
func hasSandboxRecord(t *testing.T, s *Service, id string) bool {
	t.Helper()
	found := false
	if err := each(s.db, bucketSandboxes, func(k string, _ *sandbox) { found = found || k == id }); err != nil {
		t.Fatal(err)
	}
	return found
}

func hasLink(t *testing.T, ns, name string) bool {
	t.Helper()
	h, err := netlink.NewHandleAt(nsHandle(t, ns))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	_, err = h.LinkByName(name)
	return err == nil
}

// TestRejoinAfterCrash: a second service takes back the sandboxes of
// containers that outlived the first one (on a user network with a
// published port, and on the default bridge): same namespaces and
// addresses, traffic and the embedded DNS work again, the host port is
// the one they had. DropStale then undoes the one nobody rejoined and
// leaves the rejoined ones alone.
func TestRejoinAfterCrash(t *testing.T) {
	c := crashWith(t, map[string]string{"web": "usr", "peer": "usr", "old": "usr", "def": "bridge"},
		map[string]string{"web": "", "def": ""})
	ctx := context.Background()
	s := openService(t, c.host, c.root, c.config)

	// Open kept every sandbox: namespaces, veths, addresses, records.
	for id, j := range c.joined {
		if _, err := os.Stat(j.NetnsPath); err != nil {
			t.Errorf("namespace of %s gone at Open: %v", id, err)
		}
		if !hasLink(t, c.host, c.veths[id]) {
			t.Errorf("veth of %s gone at Open", id)
		}
	}
	if got := owner(s, c.joined["old"].Addr); got != "old" {
		t.Errorf("address of old is held by %q after Open, want old", got)
	}

	for _, id := range []string{"web", "peer", "def"} {
		j, err := s.Rejoin(ctx, c.reqs[id])
		if err != nil {
			t.Fatalf("rejoin %s: %v", id, err)
		}
		if *j != *c.joined[id] {
			t.Errorf("rejoin %s: %+v, want what join gave: %+v", id, *j, *c.joined[id])
		}
	}
	_, ports, key := s.Settings("web", nil, nil)
	if b := ports["80/tcp"]; len(b) != 1 || b[0].HostPort != c.ports["web"] || key != c.joined["web"].NetnsPath {
		t.Errorf("web after rejoin: ports %v key %s, want host port %s", ports, key, c.ports["web"])
	}
	_, ports, _ = s.Settings("def", nil, nil)
	if b := ports["80/tcp"]; len(b) != 1 || b[0].HostPort != c.ports["def"] {
		t.Errorf("def after rejoin: ports %v, want host port %s", ports, c.ports["def"])
	}

	traffic := func(when string) {
		t.Helper()
		for _, f := range []struct{ from, addr, want string }{
			{c.host, "127.0.0.1:" + c.ports["web"], "web "},
			{c.host, "127.0.0.1:" + c.ports["def"], "def "},
			{c.joined["peer"].NetnsPath, c.joined["web"].Addr.String() + ":80", "web "},
			{c.joined["def"].NetnsPath, c.joined["web"].Addr.String() + ":80", ""}, // other network: isolated
			{c.host, c.joined["def"].Addr.String() + ":80", "def "},
		} {
			timeout := 10 * time.Second
			if f.want == "" {
				timeout = 2 * time.Second
			}
			got, err := fetch(t, f.from, f.addr, timeout)
			if f.want == "" {
				if err == nil {
					t.Errorf("%s: %s reached %s across networks: %q", when, filepath.Base(f.from), f.addr, got)
				}
				continue
			}
			if err != nil || !strings.HasPrefix(got, f.want) {
				t.Errorf("%s: %s -> %s: %q %v", when, filepath.Base(f.from), f.addr, got, err)
			}
		}
		for _, name := range []string{"peer", "peer.usr"} {
			if rc, addrs := query(t, c.joined["web"].NetnsPath, "127.0.0.11:53", name); rc != 0 || len(addrs) != 1 || addrs[0] != c.joined["peer"].Addr {
				t.Errorf("%s: web resolving %s: %v %v", when, name, rc, addrs)
			}
		}
		if rc, addrs := query(t, c.joined["peer"].NetnsPath, "127.0.0.11:53", "example.org"); rc != 0 || len(addrs) != 1 || addrs[0].String() != "192.0.2.7" {
			t.Errorf("%s: peer resolving example.org (forwarded): %v %v", when, rc, addrs)
		}
	}
	traffic("after rejoin")

	// Unknown, already live: nothing to rejoin.
	for _, id := range []string{"nosuch", "web"} {
		if _, err := s.Rejoin(ctx, JoinRequest{ContainerID: id, Name: id}); !errdefs.IsNotFound(err) {
			t.Errorf("rejoin %s: %v, want not found", id, err)
		}
	}

	// DropStale undoes old, and only old.
	s.DropStale()
	if _, err := os.Stat(c.joined["old"].NetnsPath); !os.IsNotExist(err) {
		t.Errorf("namespace of old after DropStale: %v", err)
	}
	if hasLink(t, c.host, c.veths["old"]) {
		t.Error("veth of old left after DropStale")
	}
	if got := owner(s, c.joined["old"].Addr); got != "" {
		t.Errorf("address of old held by %q after DropStale", got)
	}
	if hasSandboxRecord(t, s, "old") {
		t.Error("sandbox record of old left after DropStale")
	}
	if _, err := s.Rejoin(ctx, c.reqs["old"]); !errdefs.IsNotFound(err) {
		t.Errorf("rejoin old after DropStale: %v, want not found", err)
	}
	for _, id := range []string{"web", "peer", "def"} {
		if _, err := os.Stat(c.joined[id].NetnsPath); err != nil {
			t.Errorf("namespace of rejoined %s after DropStale: %v", id, err)
		}
		if !hasSandboxRecord(t, s, id) || owner(s, c.joined[id].Addr) != id {
			t.Errorf("%s lost its record or address after DropStale", id)
		}
	}
	traffic("after DropStale")

	// A rejoined sandbox leaves as a joined one does.
	s.Leave(ctx, "web")
	if _, err := os.Stat(c.joined["web"].NetnsPath); !os.IsNotExist(err) {
		t.Errorf("namespace of web after leave: %v", err)
	}
	if err := inNS(t, c.host, func() error {
		l, err := net.Listen("tcp4", "127.0.0.1:"+c.ports["web"])
		if err == nil {
			l.Close()
		}
		return err
	}); err != nil {
		t.Errorf("the host port of web is still held after leave: %v", err)
	}
}

// TestRejoinFailures: a sandbox whose namespace went is not found, one
// whose fixed host port another program took meanwhile fails; both are
// undone.
func TestRejoinFailures(t *testing.T) {
	// A fixed port is safe here: the test's namespace is its own.
	c := crashWith(t, map[string]string{"gone": "usr", "fixed": "bridge"}, map[string]string{"fixed": "18081"})
	ctx := context.Background()
	if err := removeNetns(c.joined["gone"].NetnsPath); err != nil {
		t.Fatal(err)
	}
	var taken net.Listener
	if err := inNS(t, c.host, func() (err error) { taken, err = net.Listen("tcp4", "127.0.0.1:"+c.ports["fixed"]); return err }); err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	s := openService(t, c.host, c.root, c.config)
	_, err := s.Rejoin(ctx, c.reqs["gone"])
	if !errdefs.IsNotFound(err) {
		t.Errorf("rejoin without a namespace: %v, want not found", err)
	}
	_, err = s.Rejoin(ctx, c.reqs["fixed"])
	wantErr(t, err, errdefs.IsSystem, "address already in use")
	for _, id := range []string{"gone", "fixed"} {
		if _, err := os.Stat(c.joined[id].NetnsPath); !os.IsNotExist(err) {
			t.Errorf("namespace of %s after a failed rejoin: %v", id, err)
		}
		if hasLink(t, c.host, c.veths[id]) {
			t.Errorf("veth of %s left after a failed rejoin", id)
		}
		if hasSandboxRecord(t, s, id) {
			t.Errorf("sandbox record of %s left after a failed rejoin", id)
		}
	}
	if got := owner(s, c.joined["gone"].Addr); got != "" {
		t.Errorf("address of gone held by %q after a failed rejoin", got)
	}
	// fixed starts again afresh once its port is free, with its address.
	taken.Close()
	j, err := s.Join(ctx, c.reqs["fixed"])
	if err != nil {
		t.Fatal(err)
	}
	if j.Addr != c.joined["fixed"].Addr {
		t.Errorf("fixed restarted with %s, want %s", j.Addr, c.joined["fixed"].Addr)
	}
}
