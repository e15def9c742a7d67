package container

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// defaultDNS is dockerd's fallback when the host's resolv.conf names only
// local resolvers, which a container in its own network namespace cannot
// reach.
var defaultDNS = []string{"8.8.8.8", "8.8.4.4"}

const hostsHeader = `127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
fe00::0	ip6-localnet
ff00::0	ip6-mcastprefix
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
`

// writeEtcFiles writes the container's hostname, hosts and resolv.conf into
// its directory and records their paths (the spec binds them over
// /etc/hostname, /etc/hosts and /etc/resolv.conf). With the host's network
// the host's /etc/hosts is the base; linkHosts (see links.go) is added.
func (s *Service) writeEtcFiles(c *Container, linkHosts string) error {
	cfg, hc := c.Config, c.HostConfig
	hostnamePath := filepath.Join(c.root, "hostname")
	if err := os.WriteFile(hostnamePath, []byte(cfg.Hostname+"\n"), 0o644); err != nil {
		return err
	}

	var hosts bytes.Buffer
	if hc.NetworkMode.IsHost() {
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts.Write(b)
			if len(b) > 0 && b[len(b)-1] != '\n' {
				hosts.WriteByte('\n')
			}
		} else {
			hosts.WriteString(hostsHeader)
		}
	} else {
		hosts.WriteString(hostsHeader)
	}
	hosts.WriteString(hostsEntry(c, s.getJoined(c.ID)))
	for _, h := range hc.ExtraHosts {
		line, err := s.extraHost(h)
		if err != nil {
			return err
		}
		hosts.WriteString(line)
	}
	hosts.WriteString(linkHosts)
	hostsPath := filepath.Join(c.root, "hosts")
	if err := os.WriteFile(hostsPath, hosts.Bytes(), 0o644); err != nil {
		return err
	}

	host, _ := os.ReadFile(s.cfg.ResolvConf)
	resolvPath := filepath.Join(c.root, "resolv.conf")
	resolv := resolvConf(host, hc.NetworkMode.IsHost(), hc.DNS, hc.DNSSearch, hc.DNSOptions)
	if j := s.getJoined(c.ID); j != nil && j.EmbeddedDNS {
		resolv = embeddedResolvConf(host, hc.DNSSearch, hc.DNSOptions)
	}
	if err := os.WriteFile(resolvPath, resolv, 0o644); err != nil {
		return err
	}
	c.HostnamePath, c.HostsPath, c.ResolvConfPath = hostnamePath, hostsPath, resolvPath
	return nil
}

// resolvConf makes a container's resolv.conf from the host's, as dockerd:
// --dns, --dns-search and --dns-option replace the host's lines of their
// kind; outside the host's network, local nameservers (127.0.0.0/8, ::1)
// are dropped and, if none is left, Google's public resolvers are used.
func resolvConf(host []byte, hostNet bool, dns, search, options []string) []byte {
	var ns, srch, opts, other []string
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) > 1 {
				ns = append(ns, f[1])
			}
		case "search", "domain":
			srch = append(srch[:0], f[1:]...)
		case "options":
			opts = append(opts, f[1:]...)
		default:
			other = append(other, line)
		}
	}
	if len(dns) > 0 {
		ns = dns
	} else if !hostNet {
		var keep []string
		for _, n := range ns {
			if ip := net.ParseIP(n); ip != nil && ip.IsLoopback() {
				continue
			}
			keep = append(keep, n)
		}
		ns = keep
		if len(ns) == 0 {
			ns = defaultDNS
		}
	}
	if len(search) > 0 {
		srch = search
		if len(search) == 1 && search[0] == "." {
			srch = nil
		}
	}
	if len(options) > 0 {
		opts = options
	}
	var b bytes.Buffer
	for _, l := range other {
		b.WriteString(l + "\n")
	}
	for _, n := range ns {
		b.WriteString("nameserver " + n + "\n")
	}
	if len(srch) > 0 {
		b.WriteString("search " + strings.Join(srch, " ") + "\n")
	}
	if len(opts) > 0 {
		b.WriteString("options " + strings.Join(opts, " ") + "\n")
	}
	return b.Bytes()
}
