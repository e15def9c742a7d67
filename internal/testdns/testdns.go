// Package testdns is a DNS server for tests: every A query gets one fixed
// address, other queries an empty answer. It serves whatever packet
// connection the test listened on (loopback only, in wharf's tests).
package testdns

import (
	"net"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// Serve answers on pc until the test ends (then pc is closed).
func Serve(t testing.TB, pc net.PacketConn, a [4]byte) {
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var m dnsmessage.Message
			if m.Unpack(buf[:n]) != nil || len(m.Questions) != 1 {
				continue
			}
			m.Header.Response, m.Header.RecursionAvailable = true, true
			if q := m.Questions[0]; q.Type == dnsmessage.TypeA {
				m.Answers = []dnsmessage.Resource{{
					Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 5},
					Body:   &dnsmessage.AResource{A: a},
				}}
			}
			if out, err := m.Pack(); err == nil {
				_, _ = pc.WriteTo(out, from)
			}
		}
	}()
}
