package network

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// The firewall is one nftables table of wharf's own (family ip, named
// "wharf" by default) and nothing else: dockerd's iptables rules and any
// other table are never read or touched. The whole table is rebuilt in one
// atomic transaction whenever networks or published ports change, and
// deleted at shutdown, so the host is left as it was:
//
//	table ip wharf {
//	  chain prerouting  { type nat hook prerouting priority dstnat; fib daddr type local jump ports }
//	  chain output      { type nat hook output priority dstnat;     fib daddr type local jump ports }
//	  chain ports       { [ip daddr H] meta l4proto tcp th dport 8080 dnat to 172.18.0.2:80 ... }
//	  chain postrouting { type nat hook postrouting priority srcnat;
//	                      ip saddr 172.18.0.0/16 oifname != "br-x" masquerade        (outbound NAT)
//	                      oifname "br-x" ip saddr 127.0.0.0/8 masquerade            (published ports from loopback)
//	                      oifname "br-x" ip saddr 172.18.0.0/16 ct status dnat masquerade (hairpin) }
//	  chain forward     { type filter hook forward priority filter; policy accept;
//	                      iifname "br-i" oifname != "br-i" drop ...   (internal networks)
//	                      ct status dnat accept                        (published ports)
//	                      iifname "br-a" oifname "br-b" drop ...      (isolation between networks) }
//	}
//
// Published ports reached from the host's loopback need route_localnet on
// the bridge (set with the bridge, gone with it); hairpin mode on each port
// of the bridge lets a container reach its own published port.

// fwNetwork is a bridge network as the firewall sees it.
type fwNetwork struct {
	Bridge   string
	Subnet   netip.Prefix
	Internal bool
}

// fwPort is one published port.
type fwPort struct {
	HostIP   netip.Addr // invalid: every local address
	Proto    string     // "tcp", "udp", "sctp"
	HostPort uint16
	CtrIP    netip.Addr
	CtrPort  uint16
}

// firewall owns one table in the namespace nsFd.
type firewall struct {
	nsFd  int
	table string
}

func (f *firewall) conn() (*nftables.Conn, error) {
	return nftables.New(nftables.WithNetNSFd(f.nsFd))
}

// apply replaces the table's content with rules for nets and ports, in one
// transaction.
func (f *firewall) apply(nets []fwNetwork, ports []fwPort) error {
	c, err := f.conn()
	if err != nil {
		return err
	}
	t := &nftables.Table{Name: f.table, Family: nftables.TableFamilyIPv4}
	// add, delete, add: an empty table whether or not it existed.
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	accept := nftables.ChainPolicyAccept
	pre := c.AddChain(&nftables.Chain{Name: "prerouting", Table: t, Type: nftables.ChainTypeNAT, Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest})
	out := c.AddChain(&nftables.Chain{Name: "output", Table: t, Type: nftables.ChainTypeNAT, Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest})
	post := c.AddChain(&nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT, Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	fwd := c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &accept})
	pc := c.AddChain(&nftables.Chain{Name: "ports", Table: t})

	rule := func(ch *nftables.Chain, ex ...expr.Any) { c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: ex}) }
	jumpPorts := cat(fibDaddrLocal(), []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: pc.Name}})
	rule(pre, jumpPorts...)
	rule(out, jumpPorts...)

	for _, p := range ports {
		ex := []expr.Any{}
		if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
			ex = append(ex, addrMatch(16, netip.PrefixFrom(p.HostIP, 32))...)
		}
		ex = append(ex, l4proto(p.Proto)...)
		ex = append(ex, dport(p.HostPort)...)
		ex = append(ex,
			&expr.Immediate{Register: 1, Data: p.CtrIP.AsSlice()},
			&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(p.CtrPort)},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
		)
		rule(pc, ex...)
	}

	loopback := netip.MustParsePrefix("127.0.0.0/8")
	for _, n := range nets {
		if !n.Internal {
			rule(post, cat(addrMatch(12, n.Subnet), ifname(false, n.Bridge, expr.CmpOpNeq), []expr.Any{&expr.Masq{}})...)
		}
		rule(post, cat(ifname(false, n.Bridge, expr.CmpOpEq), addrMatch(12, loopback), []expr.Any{&expr.Masq{}})...)
		rule(post, cat(ifname(false, n.Bridge, expr.CmpOpEq), addrMatch(12, n.Subnet), ctStatusDNAT(), []expr.Any{&expr.Masq{}})...)
	}

	drop := &expr.Verdict{Kind: expr.VerdictDrop}
	for _, n := range nets {
		if n.Internal {
			rule(fwd, cat(ifname(true, n.Bridge, expr.CmpOpEq), ifname(false, n.Bridge, expr.CmpOpNeq), []expr.Any{drop})...)
			rule(fwd, cat(ifname(false, n.Bridge, expr.CmpOpEq), ifname(true, n.Bridge, expr.CmpOpNeq), []expr.Any{drop})...)
		}
	}
	rule(fwd, cat(ctStatusDNAT(), []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}})...)
	for _, a := range nets {
		for _, b := range nets {
			if a.Bridge != b.Bridge {
				rule(fwd, cat(ifname(true, a.Bridge, expr.CmpOpEq), ifname(false, b.Bridge, expr.CmpOpEq), []expr.Any{drop})...)
			}
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables table %s: %w", f.table, err)
	}
	return nil
}

// remove deletes the table if it exists.
func (f *firewall) remove() error {
	c, err := f.conn()
	if err != nil {
		return err
	}
	if t, err := c.ListTableOfFamily(f.table, nftables.TableFamilyIPv4); err != nil || t == nil {
		return nil // not there
	}
	c.DelTable(&nftables.Table{Name: f.table, Family: nftables.TableFamilyIPv4})
	return c.Flush()
}

func cat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// ifname matches the input (in) or output interface's name.
func ifname(in bool, name string, op expr.CmpOp) []expr.Any {
	key := expr.MetaKeyOIFNAME
	if in {
		key = expr.MetaKeyIIFNAME
	}
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{&expr.Meta{Key: key, Register: 1}, &expr.Cmp{Op: op, Register: 1, Data: b}}
}

// addrMatch matches the IPv4 source (offset 12) or destination (16) in p.
func addrMatch(offset uint32, p netip.Prefix) []expr.Any {
	p = p.Masked()
	mask := make([]byte, 4)
	binary.BigEndian.PutUint32(mask, ^uint32(0)<<(32-p.Bits()))
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Addr().AsSlice()},
	}
}

// l4proto matches the transport protocol.
func l4proto(proto string) []expr.Any {
	n := byte(unix.IPPROTO_TCP)
	switch proto {
	case "udp":
		n = unix.IPPROTO_UDP
	case "sctp":
		n = unix.IPPROTO_SCTP
	}
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{n}}}
}

func dport(port uint16) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(port)},
	}
}

// fibDaddrLocal is "fib daddr type local": the packet is for this host.
func fibDaddrLocal() []expr.Any {
	return []expr.Any{
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
	}
}

// ctStatusDNAT is "ct status dnat": the connection's destination was
// translated (a published port).
func ctStatusDNAT() []expr.Any {
	const ipsDstNAT = 1 << 5
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: binaryutil.NativeEndian.PutUint32(ipsDstNAT), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}
