package network

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/wharf-project/wharf/internal/testdns"
)

// requireRoot skips tests that need to make namespaces, bridges and
// nftables tables.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes network namespaces, bridges, veths and nftables tables")
	}
}

// testNS makes a network namespace that plays the host for one test, so
// bridges, rules and sysctls never touch the real host; it goes (with
// everything in it) when the test ends.
func testNS(t *testing.T) string {
	t.Helper()
	requireRoot(t)
	path := filepath.Join(t.TempDir(), "host-ns")
	self, err := os.Open("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	if err := createNetns(int(self.Fd()), path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeNetns(path); err != nil {
			t.Errorf("remove test namespace: %v", err)
		}
	})
	return path
}

// names resolves container names to themselves (the tests use names as
// IDs).
type names struct{}

func (names) Lookup(name string) (string, string, error) { return name, name, nil }

// openService opens a service working in the namespace ns.
func openService(t *testing.T, ns string, root string, mod func(*Config)) *Service {
	t.Helper()
	cfg := Config{Root: root, ExecRoot: filepath.Join(root, "exec"), NetnsPath: ns, Bridge: "wt0", Containers: names{}}
	if mod != nil {
		mod(&cfg)
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// inNS runs fn in the namespace at path.
func inNS(t *testing.T, path string, fn func() error) error {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return inNetns(int(f.Fd()), fn)
}

// serveName listens on addr (tcp4) in the namespace at path and answers
// every connection with reply and the peer's address, then closes it.
func serveName(t *testing.T, path, addr, reply string) net.Listener {
	t.Helper()
	return serveOn(t, "tcp4", path, addr, reply)
}

// serveOn is serveName on the given network ("tcp" for both families).
func serveOn(t *testing.T, network, path, addr, reply string) net.Listener {
	t.Helper()
	var l net.Listener
	if err := inNS(t, path, func() (err error) { l, err = net.Listen(network, addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, reply+" "+c.RemoteAddr().String()+"\n")
			c.Close()
		}
	}()
	return l
}

// fetch dials addr (tcp4) from the namespace at path and returns the
// first line the server sends.
func fetch(t *testing.T, path, addr string, timeout time.Duration) (string, error) {
	t.Helper()
	return fetchOn(t, "tcp4", path, addr, timeout)
}

// fetchOn is fetch over the given network.
func fetchOn(t *testing.T, network, path, addr string, timeout time.Duration) (string, error) {
	t.Helper()
	var c net.Conn
	if err := inNS(t, path, func() (err error) { c, err = net.DialTimeout(network, addr, timeout); return err }); err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// askDNS asks the DNS server at server (from the namespace at path) for
// name's records of type qtype and returns the answer.
func askDNS(t *testing.T, path, server, name string, qtype dnsmessage.Type) dnsmessage.Message {
	t.Helper()
	q := dnsmessage.Message{Header: dnsmessage.Header{ID: 4242, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name + "."), Type: qtype, Class: dnsmessage.ClassINET}}}
	b, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var c net.Conn
	if err := inNS(t, path, func() (err error) { c, err = net.Dial("udp4", server); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("dns query %s %v: %v", name, qtype, err)
	}
	var m dnsmessage.Message
	if err := m.Unpack(buf[:n]); err != nil {
		t.Fatal(err)
	}
	if m.ID != 4242 {
		t.Fatalf("answer id %d", m.ID)
	}
	return m
}

// query asks the DNS server at server (from the namespace at path) for
// name's A records.
func query(t *testing.T, path, server, name string) (dnsmessage.RCode, []netip.Addr) {
	t.Helper()
	m := askDNS(t, path, server, name, dnsmessage.TypeA)
	var out []netip.Addr
	for _, a := range m.Answers {
		if r, ok := a.Body.(*dnsmessage.AResource); ok {
			out = append(out, netip.AddrFrom4(r.A))
		}
	}
	return m.RCode, out
}

// fakeUpstream is a DNS server on the host's loopback (the real host's:
// the daemon forwards from its own namespace) answering every A query
// with 192.0.2.7 (others get an empty answer).
func fakeUpstream(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testdns.Serve(t, pc, [4]byte{192, 0, 2, 7})
	return pc.LocalAddr().String()
}

// crash drops the service as a daemon that dies does: its sockets and
// handles go (the kernel would close them with the process), and nothing
// it made (bridges, veths, namespaces, rules, records) is undone. That is
// what Detach does.
func (s *Service) crash() { s.Detach() }

// unmountNetns removes the namespaces left under <root>/exec/netns (by a
// service that crashed and was not followed by one that closed), so the
// test's temporary directory can go.
func unmountNetns(t *testing.T, root string) {
	t.Helper()
	dir := filepath.Join(root, "exec", "netns")
	t.Cleanup(func() {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if err := removeNetns(filepath.Join(dir, e.Name())); err != nil {
				t.Errorf("remove namespace %s: %v", e.Name(), err)
			}
		}
	})
}
