package network

import (
	"net/netip"
	"strings"
	"time"

	"github.com/docker/docker/api/types/network"
)

// netRecord is one network as stored.
type netRecord struct {
	ID      string
	Name    string
	Driver  string // "bridge", "host", "null"
	Created time.Time
	// Predefined networks (bridge, host, none) cannot be removed; Default
	// marks the default bridge.
	Predefined bool `json:",omitempty"`
	Default    bool `json:",omitempty"`
	Internal   bool
	Attachable bool
	Options    map[string]string
	Labels     map[string]string
	// IPAMOptions and IPAMConfig are as the client gave them (IPAMConfig
	// is nil when the subnet came from the default pools).
	IPAMOptions map[string]string    `json:",omitempty"`
	IPAMConfig  []network.IPAMConfig `json:",omitempty"`
	// Bridge is the device; MTU its MTU.
	Bridge string `json:",omitempty"`
	MTU    int    `json:",omitempty"`
	Pool   *pool  `json:",omitempty"`
	// EnableIPv6 networks have a second pool, of IPv6 addresses: the
	// client's subnet, or a /64 of fd00::/8.
	EnableIPv6 bool  `json:",omitempty"`
	Pool6      *pool `json:",omitempty"`
}

func (n *netRecord) isBridge() bool { return n.Driver == "bridge" && n.Pool != nil }

// userSubnet reports whether the client chose the subnet (a static --ip
// needs one, as in dockerd).
func (n *netRecord) userSubnet() bool {
	return n.userSubnetOf(true) || n.Default
}

// userSubnetOf reports whether the client chose the subnet of a family.
func (n *netRecord) userSubnetOf(v4 bool) bool {
	for _, c := range n.IPAMConfig {
		if p, err := netip.ParsePrefix(c.Subnet); err == nil && p.Addr().Is4() == v4 {
			return true
		}
	}
	return false
}

// gatewayPrefix is the bridge's address: the gateway with the subnet's
// length.
func (n *netRecord) gatewayPrefix() netip.Prefix {
	return netip.PrefixFrom(n.Pool.Gateway, n.Pool.Subnet.Bits())
}

// gatewayPrefix6 is the bridge's IPv6 address; invalid without IPv6.
func (n *netRecord) gatewayPrefix6() netip.Prefix {
	if n.Pool6 == nil {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(n.Pool6.Gateway, n.Pool6.Subnet.Bits())
}

// ipam is the IPAM of inspect.
func (n *netRecord) ipam() network.IPAM {
	ip := network.IPAM{Driver: "default", Options: n.IPAMOptions, Config: []network.IPAMConfig{}}
	if n.Pool != nil {
		c := network.IPAMConfig{Subnet: n.Pool.Subnet.String(), Gateway: n.Pool.Gateway.String()}
		if n.Pool.Range != n.Pool.Subnet {
			c.IPRange = n.Pool.Range.String()
		}
		for _, uc := range n.IPAMConfig {
			if p, err := netip.ParsePrefix(uc.Subnet); err == nil && p.Addr().Is4() || uc.Subnet == "" {
				c.AuxAddress = uc.AuxAddress
			}
		}
		ip.Config = append(ip.Config, c)
	}
	if n.Pool6 != nil {
		c := network.IPAMConfig{Subnet: n.Pool6.Subnet.String(), Gateway: n.Pool6.Gateway.String()}
		if n.Pool6.Range != n.Pool6.Subnet {
			c.IPRange = n.Pool6.Range.String()
		}
		ip.Config = append(ip.Config, c)
	} else {
		// An IPv6 subnet given without EnableIPv6: shown, not used.
		for _, uc := range n.IPAMConfig {
			if p, err := netip.ParsePrefix(uc.Subnet); err == nil && p.Addr().Is6() {
				ip.Config = append(ip.Config, uc)
			}
		}
	}
	return ip
}

// matchesPrefix reports whether prefix starts the network's ID.
func (n *netRecord) matchesPrefix(prefix string) bool { return strings.HasPrefix(n.ID, prefix) }
