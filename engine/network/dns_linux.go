package network

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// dnsAddr is where containers on user-defined networks find the embedded
// DNS server, as with dockerd.
var dnsAddr = netip.MustParseAddr("127.0.0.11")

// startResolver opens the resolver's sockets on 127.0.0.11 (ports the
// kernel picks) in the container's namespace, and redirects port 53 there
// with a "wharf" nftables table of that namespace, so port 53 stays free
// for the container's own programs.
func startResolver(ctrNs int, r *resolver) error {
	err := inNetns(ctrNs, func() error {
		var err error
		if r.udp, err = net.ListenUDP("udp4", &net.UDPAddr{IP: dnsAddr.AsSlice()}); err != nil {
			return err
		}
		if r.tcp, err = net.ListenTCP("tcp4", &net.TCPAddr{IP: dnsAddr.AsSlice()}); err != nil {
			r.udp.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded dns: %w", err)
	}
	udpPort := uint16(r.udp.LocalAddr().(*net.UDPAddr).Port)
	tcpPort := uint16(r.tcp.Addr().(*net.TCPAddr).Port)
	if err := dnsRedirect(ctrNs, udpPort, tcpPort); err != nil {
		r.udp.Close()
		r.tcp.Close()
		return fmt.Errorf("embedded dns redirect: %w", err)
	}
	r.serve()
	return nil
}

// dnsRedirect is, in the container's namespace (made anew, or replacing
// the one there):
//
//	table ip wharf { chain output { type nat hook output priority dstnat;
//	  ip daddr 127.0.0.11 udp dport 53 dnat to 127.0.0.11:<udp port>
//	  ip daddr 127.0.0.11 tcp dport 53 dnat to 127.0.0.11:<tcp port> } }
func dnsRedirect(ctrNs int, udpPort, tcpPort uint16) error {
	c, err := nftables.New(nftables.WithNetNSFd(ctrNs))
	if err != nil {
		return err
	}
	t := c.AddTable(&nftables.Table{Name: "wharf", Family: nftables.TableFamilyIPv4})
	// A rejoined sandbox has the table of the daemon before, whose rules
	// point at ports nobody listens on any more.
	c.FlushTable(t)
	out := c.AddChain(&nftables.Chain{Name: "output", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest})
	for _, p := range []struct {
		proto string
		to    uint16
	}{{"udp", udpPort}, {"tcp", tcpPort}} {
		ex := cat(famIPv4.addrMatch(famIPv4.dstOff, netip.PrefixFrom(dnsAddr, 32)), l4proto(p.proto), dport(53), []expr.Any{
			&expr.Immediate{Register: 1, Data: dnsAddr.AsSlice()},
			&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(p.to)},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
		})
		c.AddRule(&nftables.Rule{Table: t, Chain: out, Exprs: ex})
	}
	return c.Flush()
}
