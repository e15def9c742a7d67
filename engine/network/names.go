package network

import (
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/docker/docker/pkg/stringid"
)

// The names the embedded DNS server answers (dns.go serves them): on a
// user network a container is its name, its aliases and its short ID,
// also as "<name>.<network>", with its IPv4 and IPv6 addresses; other
// names go to the container's --dns, the daemon's --dns, or the host's
// resolvers.

// dnsNames are the names a container answers to on a user network:
// its name, its aliases and its short ID, as dockerd lists them.
func dnsNames(sb *sandbox, att *attachment) []string {
	names := []string{}
	if sb.Name != "" {
		names = append(names, sb.Name)
	}
	names = append(names, att.Aliases...)
	return append(names, stringid.TruncateID(sb.ContainerID))
}

// startDNS starts the sandbox's embedded DNS server. Call with s.mu held.
func (s *Service) startDNS(sb *sandbox, ctrDNS []string) error {
	var ups []netip.AddrPort
	src := ctrDNS
	if len(src) == 0 {
		src = s.cfg.DNS
	}
	if len(src) == 0 {
		src = hostNameservers(s.cfg.ResolvConf)
	}
	for _, u := range src {
		if ap, ok := parseUpstream(u); ok && ap.Addr() != dnsAddr {
			ups = append(ups, ap)
		}
	}
	id := sb.ContainerID
	r := &resolver{upstreams: ups, log: s.log,
		lookup:  func(name string) ([]netip.Addr, bool) { return s.lookupName(id, name) },
		reverse: func(a netip.Addr) (string, bool) { return s.lookupAddr(id, a) }}
	if err := startResolver(int(sb.ns.Fd()), r); err != nil {
		return err
	}
	sb.dns = r
	return nil
}

// lookupName answers a name for the container id: the addresses of the
// containers on its user networks with that name ("name" or
// "name.network").
func (s *Service) lookupName(id, name string) ([]netip.Addr, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	me := s.sandboxes[id]
	if me == nil {
		return nil, false
	}
	var out []netip.Addr
	for nid := range me.Endpoints {
		n := s.nets[nid]
		if n == nil || n.Default {
			continue
		}
		short := name
		if base, ok := strings.CutSuffix(name, "."+strings.ToLower(n.Name)); ok {
			short = base
		}
		for _, other := range s.sandboxes {
			ep := other.Endpoints[nid]
			if ep == nil {
				continue
			}
			for _, dn := range ep.DNSNames {
				if strings.EqualFold(dn, short) {
					out = append(out, ep.Addr.Addr())
					if ep.Addr6.IsValid() {
						out = append(out, ep.Addr6.Addr())
					}
					break
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out, len(out) > 0
}

// lookupAddr answers an address on the container's user networks with
// "name.network".
func (s *Service) lookupAddr(id string, a netip.Addr) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	me := s.sandboxes[id]
	if me == nil {
		return "", false
	}
	for nid := range me.Endpoints {
		n := s.nets[nid]
		if n == nil || n.Default {
			continue
		}
		for _, other := range s.sandboxes {
			if ep := other.Endpoints[nid]; ep != nil && (ep.Addr.Addr() == a || ep.Addr6.IsValid() && ep.Addr6.Addr() == a) && other.Name != "" {
				return other.Name + "." + n.Name, true
			}
		}
	}
	return "", false
}

// hostNameservers lists the nameserver lines of a resolv.conf.
func hostNameservers(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			out = append(out, f[1])
		}
	}
	return out
}
