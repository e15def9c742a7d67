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
}

func (n *netRecord) isBridge() bool { return n.Driver == "bridge" && n.Pool != nil }

// userSubnet reports whether the client chose the subnet (a static --ip
// needs one, as in dockerd).
func (n *netRecord) userSubnet() bool {
	return len(n.IPAMConfig) > 0 && n.IPAMConfig[0].Subnet != "" || n.Default
}

// gatewayPrefix is the bridge's address: the gateway with the subnet's
// length.
func (n *netRecord) gatewayPrefix() netip.Prefix {
	return netip.PrefixFrom(n.Pool.Gateway, n.Pool.Subnet.Bits())
}

// ipam is the IPAM of inspect.
func (n *netRecord) ipam() network.IPAM {
	ip := network.IPAM{Driver: "default", Options: n.IPAMOptions, Config: []network.IPAMConfig{}}
	if n.Pool != nil {
		c := network.IPAMConfig{Subnet: n.Pool.Subnet.String(), Gateway: n.Pool.Gateway.String()}
		if n.Pool.Range != n.Pool.Subnet {
			c.IPRange = n.Pool.Range.String()
		}
		if len(n.IPAMConfig) > 0 {
			c.AuxAddress = n.IPAMConfig[0].AuxAddress
		}
		ip.Config = append(ip.Config, c)
	}
	return ip
}

// matchesPrefix reports whether prefix starts the network's ID.
func (n *netRecord) matchesPrefix(prefix string) bool { return strings.HasPrefix(n.ID, prefix) }
