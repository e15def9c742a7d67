package network

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// resolver is the embedded DNS server of one container on user-defined
// networks, as dockerd's: it answers A and AAAA queries for the
// names of containers on the same networks (name, aliases, short ID, also
// "name.network"), PTR queries for their addresses, and forwards anything
// else, unchanged, to the upstream resolvers. Its sockets live in the
// container's namespace; forwarding happens from the daemon's namespace,
// so upstreams on the host's loopback work.
type resolver struct {
	// lookup answers a name (lower-case, no trailing dot) with the
	// addresses it has on the container's networks; ok reports whether
	// the name is known at all.
	lookup func(name string) (addrs []netip.Addr, ok bool)
	// reverse answers an address with a name.
	reverse   func(a netip.Addr) (string, bool)
	upstreams []netip.AddrPort
	log       *slog.Logger

	udp *net.UDPConn
	tcp *net.TCPListener
	wg  sync.WaitGroup
}

// forwardTimeout bounds one exchange with an upstream.
const forwardTimeout = 5 * time.Second

func (r *resolver) serve() {
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 65535)
		for {
			n, from, err := r.udp.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			q := append([]byte(nil), buf[:n]...)
			go func() {
				if resp := r.answer(q, "udp"); resp != nil {
					_, _ = r.udp.WriteToUDPAddrPort(resp, from)
				}
			}()
		}
	}()
	go func() {
		defer r.wg.Done()
		for {
			c, err := r.tcp.Accept()
			if err != nil {
				return
			}
			go r.serveTCP(c)
		}
	}()
}

func (r *resolver) serveTCP(c net.Conn) {
	defer c.Close()
	for {
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		q, err := readTCPMsg(c)
		if err != nil {
			return
		}
		resp := r.answer(q, "tcp")
		if resp == nil {
			return
		}
		if err := writeTCPMsg(c, resp); err != nil {
			return
		}
	}
}

func (r *resolver) close() {
	_ = r.udp.Close()
	_ = r.tcp.Close()
	r.wg.Wait()
}

// answer builds the response to one query message, or nil to drop it.
func (r *resolver) answer(q []byte, proto string) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil || h.Response {
		return nil
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) != 1 {
		return reply(h, qs, dnsmessage.RCodeFormatError, nil)
	}
	question := qs[0]
	name := strings.TrimSuffix(strings.ToLower(question.Name.String()), ".")
	if question.Class == dnsmessage.ClassINET {
		switch question.Type {
		case dnsmessage.TypeA, dnsmessage.TypeAAAA:
			if addrs, ok := r.lookup(name); ok {
				var rrs []dnsmessage.Resource
				for _, a := range addrs {
					hdr := dnsmessage.ResourceHeader{Name: question.Name, Type: question.Type, Class: dnsmessage.ClassINET, TTL: 600}
					switch {
					case question.Type == dnsmessage.TypeA && a.Is4():
						rrs = append(rrs, dnsmessage.Resource{Header: hdr, Body: &dnsmessage.AResource{A: a.As4()}})
					case question.Type == dnsmessage.TypeAAAA && a.Is6():
						rrs = append(rrs, dnsmessage.Resource{Header: hdr, Body: &dnsmessage.AAAAResource{AAAA: a.As16()}})
					}
				}
				return reply(h, qs, dnsmessage.RCodeSuccess, rrs)
			}
		case dnsmessage.TypePTR:
			if a, ok := ptrAddr(name); ok {
				if host, ok := r.reverse(a); ok {
					ptr, err := dnsmessage.NewName(host + ".")
					if err == nil {
						return reply(h, qs, dnsmessage.RCodeSuccess, []dnsmessage.Resource{{
							Header: dnsmessage.ResourceHeader{Name: question.Name, Type: dnsmessage.TypePTR, Class: dnsmessage.ClassINET, TTL: 600},
							Body:   &dnsmessage.PTRResource{PTR: ptr},
						}})
					}
				}
			}
		}
	}
	if resp := r.forward(q, proto); resp != nil {
		return resp
	}
	return reply(h, qs, dnsmessage.RCodeServerFailure, nil)
}

// forward sends the query to each upstream in turn until one answers.
func (r *resolver) forward(q []byte, proto string) []byte {
	for _, up := range r.upstreams {
		ctx, cancel := context.WithTimeout(context.Background(), forwardTimeout)
		resp, err := exchange(ctx, proto, up, q)
		cancel()
		if err == nil {
			return resp
		}
		r.log.Debug("dns forward failed", "upstream", up.String(), "error", err)
	}
	return nil
}

func exchange(ctx context.Context, proto string, up netip.AddrPort, q []byte) ([]byte, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, proto, up.String())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	dl, _ := ctx.Deadline()
	_ = c.SetDeadline(dl)
	if proto == "tcp" {
		if err := writeTCPMsg(c, q); err != nil {
			return nil, err
		}
		return readTCPMsg(c)
	}
	if _, err := c.Write(q); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		if n >= 2 && n >= 12 && buf[0] == q[0] && buf[1] == q[1] {
			return buf[:n], nil
		}
	}
}

func readTCPMsg(c io.Reader) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	_, err := io.ReadFull(c, b)
	return b, err
}

func writeTCPMsg(c io.Writer, m []byte) error {
	if len(m) > 65535 {
		return errors.New("dns message too long")
	}
	b := make([]byte, 2+len(m))
	binary.BigEndian.PutUint16(b, uint16(len(m)))
	copy(b[2:], m)
	_, err := c.Write(b)
	return err
}

// reply builds a response with the query's ID, flags and questions.
func reply(q dnsmessage.Header, qs []dnsmessage.Question, rcode dnsmessage.RCode, answers []dnsmessage.Resource) []byte {
	m := dnsmessage.Message{
		Header: dnsmessage.Header{ID: q.ID, Response: true, OpCode: q.OpCode, RecursionDesired: q.RecursionDesired,
			RecursionAvailable: true, Authoritative: rcode == dnsmessage.RCodeSuccess && len(answers) > 0, RCode: rcode},
		Questions: qs,
		Answers:   answers,
	}
	b, err := m.Pack()
	if err != nil {
		return nil
	}
	return b
}

// ptrAddr reads "4.3.2.1.in-addr.arpa" as 1.2.3.4, and the 32 reversed
// nibbles of an ".ip6.arpa" name as an IPv6 address.
func ptrAddr(name string) (netip.Addr, bool) {
	if rest, ok := strings.CutSuffix(name, ".ip6.arpa"); ok {
		nib := strings.Split(rest, ".")
		if len(nib) != 32 {
			return netip.Addr{}, false
		}
		var b [16]byte
		for i, h := range nib {
			v, err := strconv.ParseUint(h, 16, 4)
			if err != nil || len(h) != 1 {
				return netip.Addr{}, false
			}
			pos := 31 - i // nibble index from the address's start
			b[pos/2] |= byte(v) << (4 * (1 - pos%2))
		}
		return netip.AddrFrom16(b), true
	}
	rest, ok := strings.CutSuffix(name, ".in-addr.arpa")
	if !ok {
		return netip.Addr{}, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	for i, j := 0, 3; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	a, err := netip.ParseAddr(strings.Join(parts, "."))
	return a, err == nil && a.Is4()
}

// parseUpstream reads a nameserver: an address (port 53) or address:port.
func parseUpstream(s string) (netip.AddrPort, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a.Unmap(), 53), true
	}
	return netip.AddrPort{}, false
}
