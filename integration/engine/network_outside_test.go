package engine

import (
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/internal/testdns"
)

// fakeDNS serves DNS on port 53 of a random 127/8 address of the host
// (loopback only): A queries get 127.0.0.7 (a container's own loopback,
// so using the answer sends nothing anywhere), others an empty answer. It
// returns the address, for a daemon's --dns.
func fakeDNS(t *testing.T) string {
	t.Helper()
	b := make([]byte, 3)
	var pc net.PacketConn
	var err error
	for range 20 {
		_, _ = rand.Read(b)
		addr := fmt.Sprintf("127.%d.%d.%d", b[0]|1, b[1], b[2]|2)
		if pc, err = net.ListenPacket("udp4", addr+":53"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	testdns.Serve(t, pc, [4]byte{127, 0, 0, 7})
	return pc.LocalAddr().(*net.UDPAddr).IP.String()
}

// outsideServer makes a network namespace wired to the host by a veth
// pair in 198.18.0.0/15 (the benchmarking range: nothing real is there),
// with an HTTP server inside answering each request with the client's
// address. It returns the server's address and the host's end. All of it
// goes when the test ends.
func outsideServer(t *testing.T) (server, hostAddr string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes a network namespace and a veth pair")
	}
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	hostAddr = fmt.Sprintf("198.18.%d.%d", b[0], b[1]&0xfc|1)
	peerAddr := fmt.Sprintf("198.18.%d.%d", b[0], b[1]&0xfc|2)
	hostEnd := fmt.Sprintf("wo%x", b)

	path := filepath.Join(t.TempDir(), "outside")
	if f, err := os.Create(path); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	var l net.Listener
	err := inNewNetns(path, func() error {
		var err error
		l, err = net.Listen("tcp4", ":8080")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Close()
		_ = unix.Unmount(path, unix.MNT_DETACH)
	})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.RemoteAddr+"\n") })}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })

	nsf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer nsf.Close()
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: hostEnd}, PeerName: "eth0", PeerNamespace: netlink.NsFd(nsf.Fd())}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if link, err := netlink.LinkByName(hostEnd); err == nil {
			_ = netlink.LinkDel(link)
		}
	})
	link, err := netlink.LinkByName(hostEnd)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := netlink.ParseAddr(hostAddr + "/30")
	if err := netlink.AddrAdd(link, addr); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		t.Fatal(err)
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(nsf.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	peer, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	paddr, _ := netlink.ParseAddr(peerAddr + "/30")
	if err := h.AddrAdd(peer, paddr); err != nil {
		t.Fatal(err)
	}
	if err := h.LinkSetUp(peer); err != nil {
		t.Fatal(err)
	}
	return peerAddr + ":8080", hostAddr
}

// inNewNetns runs fn in a new network namespace (lo up), kept by a bind
// mount on path, on a thread that is thrown away afterwards.
func inNewNetns(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
			errc <- err
			return
		}
		if lo, err := netlink.LinkByName("lo"); err == nil {
			_ = netlink.LinkSetUp(lo)
		}
		errc <- fn()
	}()
	return <-errc
}
