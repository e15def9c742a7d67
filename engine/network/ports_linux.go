package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/go-connections/nat"
	"golang.org/x/sys/unix"
)

// A published port is held twice: by a DNAT rule of the firewall, and by
// a socket bound (never listening) on the host address and port, so that
// no other program, and no other container, can take the port meanwhile,
// and a port already in use is refused as dockerd refuses it.

// publishedPort is one published port of a running container, as its
// sandbox's record keeps it.
type publishedPort struct {
	Proto    string
	CtrPort  uint16
	HostIP   netip.Addr // 0.0.0.0 for every address
	HostPort uint16
}

// portMapping is a published port and the socket holding its host port.
type portMapping struct {
	publishedPort
	fd int // the socket reserving the host port; -1 once closed
}

// wantedPort is one -p/-P request before a host port is chosen.
type wantedPort struct {
	Proto          string
	CtrPort        uint16
	HostIP         netip.Addr
	HostLo, HostHi uint16 // 0, 0: any free port
	// Also6: the same host port on [::] too (no host address given, and
	// the container has an IPv6 address).
	Also6 bool
}

// errBadProto is dockerd's (500) answer to a port whose protocol is not
// tcp, udp or sctp, given at start.
var errBadProto = errors.New("invalid transport protocol: 0")

// wantedPorts reads HostConfig.PortBindings and, with -P, every exposed
// port without a binding (an ephemeral host port each), in a stable order.
// Bindings on IPv6 host addresses are kept only when the container has an
// IPv6 address (v6), and then a binding without an address is made on
// both families.
func wantedPorts(bindings nat.PortMap, exposed nat.PortSet, publishAll, v6 bool) ([]wantedPort, error) {
	var out []wantedPort
	for p, bs := range bindings {
		proto, cport := p.Proto(), p.Int()
		if cport <= 0 || cport > 65535 {
			return nil, fmt.Errorf("invalid port specification: %q", string(p))
		}
		if !knownProto(proto) {
			return nil, errBadProto
		}
		if len(bs) == 0 {
			bs = []nat.PortBinding{{}}
		}
		for _, b := range bs {
			w := wantedPort{Proto: proto, CtrPort: uint16(cport), HostIP: netip.IPv4Unspecified(), Also6: v6}
			if b.HostIP != "" {
				a, err := netip.ParseAddr(b.HostIP)
				if err != nil {
					return nil, fmt.Errorf("invalid host IP address: %s", b.HostIP)
				}
				if a.Is6() && !a.Is4In6() && !v6 {
					continue // no IPv6 address in the container to reach
				}
				w.HostIP, w.Also6 = a.Unmap(), false
			}
			if b.HostPort != "" {
				lo, hi, err := nat.ParsePortRange(b.HostPort)
				if err != nil || lo == 0 || hi > 65535 {
					return nil, fmt.Errorf("invalid port specification: %q", b.HostPort)
				}
				w.HostLo, w.HostHi = uint16(lo), uint16(hi)
			}
			out = append(out, w)
		}
	}
	if publishAll {
		for p := range exposed {
			if _, ok := bindings[p]; ok {
				continue
			}
			if cport := p.Int(); cport > 0 && cport <= 65535 {
				out = append(out, wantedPort{Proto: p.Proto(), CtrPort: uint16(cport), HostIP: netip.IPv4Unspecified(), Also6: v6})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CtrPort != out[j].CtrPort {
			return out[i].CtrPort < out[j].CtrPort
		}
		if out[i].Proto != out[j].Proto {
			return out[i].Proto < out[j].Proto
		}
		return out[i].HostLo < out[j].HostLo
	})
	return out, nil
}

// reserve binds a socket on the wanted host address and a port of its
// range (any free one for 0-0), in the namespace nsFd.
func (w wantedPort) reserve(nsFd int) (*portMapping, error) {
	typ, proto := unix.SOCK_STREAM, 0
	switch w.Proto {
	case "udp":
		typ = unix.SOCK_DGRAM
	case "sctp":
		typ, proto = unix.SOCK_SEQPACKET, unix.IPPROTO_SCTP
	}
	ports := []uint16{0}
	if w.HostLo != 0 {
		ports = ports[:0]
		for p := int(w.HostLo); p <= int(w.HostHi); p++ {
			ports = append(ports, uint16(p))
		}
	}
	var last error
	for _, port := range ports {
		var fd int
		err := inNetns(nsFd, func() error {
			var err error
			family := unix.AF_INET
			var sa unix.Sockaddr
			if w.HostIP.Is6() {
				family, sa = unix.AF_INET6, &unix.SockaddrInet6{Addr: w.HostIP.As16(), Port: int(port)}
			} else {
				sa = &unix.SockaddrInet4{Addr: w.HostIP.As4(), Port: int(port)}
			}
			fd, err = unix.Socket(family, typ|unix.SOCK_CLOEXEC, proto)
			if err != nil {
				return err
			}
			if family == unix.AF_INET6 {
				// [::]:port holds the IPv6 port only; 0.0.0.0:port is its own.
				if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
					unix.Close(fd)
					return err
				}
			}
			if err := unix.Bind(fd, sa); err != nil {
				unix.Close(fd)
				return err
			}
			return nil
		})
		if err != nil {
			last = err
			if errors.Is(err, unix.EADDRINUSE) {
				continue
			}
			return nil, fmt.Errorf("failed to bind host port %s/%s: %w", net.JoinHostPort(w.HostIP.String(), strconv.Itoa(int(port))), w.Proto, err)
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			unix.Close(fd)
			return nil, err
		}
		got := 0
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			got = a.Port
		case *unix.SockaddrInet6:
			got = a.Port
		}
		return &portMapping{publishedPort: publishedPort{Proto: w.Proto, CtrPort: w.CtrPort, HostIP: w.HostIP, HostPort: uint16(got)}, fd: fd}, nil
	}
	if errors.Is(last, unix.EADDRINUSE) {
		if w.HostHi != w.HostLo {
			return nil, errAllPortsAllocated
		}
		return nil, &portInUseError{Proto: w.Proto, HostIP: w.HostIP, HostPort: w.HostLo}
	}
	return nil, last
}

// reserveAgain is reserve, trying first the host port of the first port
// of prefer not yet taken that w fits (same protocol, container port and
// host address, and in w's range), so a rejoined sandbox keeps the host
// ports it had; it marks the one it took in taken. When that port is no
// longer free, w's range is tried as reserve does.
func (w wantedPort) reserveAgain(nsFd int, prefer []publishedPort, taken []bool) (*portMapping, error) {
	for i, p := range prefer {
		if taken[i] || p.Proto != w.Proto || p.CtrPort != w.CtrPort || p.HostIP != w.HostIP || p.HostPort == 0 ||
			w.HostLo != 0 && (p.HostPort < w.HostLo || p.HostPort > w.HostHi) {
			continue
		}
		again := w
		again.HostLo, again.HostHi = p.HostPort, p.HostPort
		if m, err := again.reserve(nsFd); err == nil {
			taken[i] = true
			return m, nil
		}
		break
	}
	return w.reserve(nsFd)
}

// errAllPortsAllocated is dockerd's message when no port of a host range
// is free.
var errAllPortsAllocated = errors.New("all ports are allocated")

// portInUseError is a host port some socket holds already. Its message
// is the one dockerd gives when another program holds it (its userland
// proxy fails to listen); Join says "Bind for ... failed: port is already
// allocated" instead when one of this daemon's containers holds it, as
// dockerd's port allocator does.
type portInUseError struct {
	Proto    string
	HostIP   netip.Addr
	HostPort uint16
}

func (e *portInUseError) addr() string {
	return net.JoinHostPort(e.HostIP.String(), strconv.Itoa(int(e.HostPort)))
}

func (e *portInUseError) Error() string {
	fam := "4"
	if e.HostIP.Is6() {
		fam = "6"
	}
	return fmt.Sprintf("Error starting userland proxy: listen %s%s %s: bind: address already in use", e.Proto, fam, e.addr())
}

// allocated is the error for a port one of our containers holds.
func (e *portInUseError) allocated() error {
	return fmt.Errorf("Bind for %s failed: port is already allocated", e.addr())
}

// knownProto reports whether a port's protocol can be published.
func knownProto(p string) bool { return p == "tcp" || p == "udp" || p == "sctp" }

// release closes the reserving socket.
func (m *portMapping) release() {
	if m.fd >= 0 {
		unix.Close(m.fd)
		m.fd = -1
	}
}

// portMap is the published ports as inspect shows them (NetworkSettings.Ports).
func portMap(ms []*portMapping, exposed nat.PortSet, bindings nat.PortMap) nat.PortMap {
	out := nat.PortMap{}
	for p := range exposed {
		out[p] = nil
	}
	for p := range bindings {
		out[p] = nil
	}
	for _, m := range ms {
		p := nat.Port(strconv.Itoa(int(m.CtrPort)) + "/" + m.Proto)
		out[p] = append(out[p], nat.PortBinding{HostIP: m.HostIP.String(), HostPort: strconv.Itoa(int(m.HostPort))})
	}
	return out
}

// normProto lower-cases a protocol name ("" is tcp).
func normProto(p string) string {
	if p == "" {
		return "tcp"
	}
	return strings.ToLower(p)
}
