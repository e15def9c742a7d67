package network

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// The firewall is one nftables table of wharf's own (family ip, named
// "wharf" by default, and its ip6 twin for IPv6) and nothing else:
// dockerd's iptables rules and any other table are never read or touched.
// The whole table is rebuilt in one atomic transaction whenever networks
// or published ports change, and deleted at shutdown, so the host is left
// as it was:
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
// A network with IPv6 gets the same chains in "table ip6 wharf" (its IPv6
// subnet masqueraded, ports published on [::] DNATed to the container's
// IPv6 address, the same isolation and internal rules; no loopback rule:
// ::1 never leaves the host). That table exists only while such a network
// does, and is built in the same transaction as the ip one.
//
// Published ports reached from the host's loopback need route_localnet on
// the bridge (set with the bridge, gone with it); hairpin mode on each port
// of the bridge lets a container reach its own published port.

// fwNetwork is a bridge network as the firewall sees it.
type fwNetwork struct {
	Bridge   string
	Subnet   netip.Prefix
	Subnet6  netip.Prefix // invalid: no IPv6
	Internal bool
}

// fwPort is one published port; CtrIP's family says which table DNATs it.
type fwPort struct {
	HostIP   netip.Addr // invalid: every local address
	Proto    string     // "tcp", "udp", "sctp"
	HostPort uint16
	CtrIP    netip.Addr
	CtrPort  uint16
}

// firewall owns one table per family in the namespace nsFd.
type firewall struct {
	nsFd  int
	table string
}

func (f *firewall) conn() (*nftables.Conn, error) {
	return nftables.New(nftables.WithNetNSFd(f.nsFd))
}

// family is what differs between the ip and the ip6 table.
type family struct {
	table  nftables.TableFamily
	nat    uint32 // NFPROTO_IPV4 or NFPROTO_IPV6
	srcOff uint32 // offsets of the source and destination addresses
	dstOff uint32
	size   uint32 // address length
}

var (
	famIPv4 = family{nftables.TableFamilyIPv4, unix.NFPROTO_IPV4, 12, 16, 4}
	famIPv6 = family{nftables.TableFamilyIPv6, unix.NFPROTO_IPV6, 8, 24, 16}
)

// apply replaces the tables' content with rules for nets and ports, in
// one transaction: table ip always, table ip6 (the same rules for IPv6
// subnets and ports, without the loopback rule: ::1 cannot leave the
// host) only while a network has IPv6.
func (f *firewall) apply(nets []fwNetwork, ports []fwPort) error {
	c, err := f.conn()
	if err != nil {
		return err
	}
	var nets4, nets6 []fwNetwork
	var ports4, ports6 []fwPort
	for _, n := range nets {
		nets4 = append(nets4, fwNetwork{Bridge: n.Bridge, Subnet: n.Subnet, Internal: n.Internal})
		if n.Subnet6.IsValid() {
			nets6 = append(nets6, fwNetwork{Bridge: n.Bridge, Subnet: n.Subnet6, Internal: n.Internal})
		}
	}
	for _, p := range ports {
		if p.CtrIP.Is6() {
			ports6 = append(ports6, p)
		} else {
			ports4 = append(ports4, p)
		}
	}
	f.fill(c, famIPv4, nets4, ports4)
	if len(nets6) > 0 || len(ports6) > 0 {
		f.fill(c, famIPv6, nets6, ports6)
	} else {
		// add then delete: no ip6 table, whether or not there was one.
		t6 := &nftables.Table{Name: f.table, Family: nftables.TableFamilyIPv6}
		c.AddTable(t6)
		c.DelTable(t6)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables table %s: %w", f.table, err)
	}
	return nil
}

// fill queues the table of one family, emptied first.
func (f *firewall) fill(c *nftables.Conn, fam family, nets []fwNetwork, ports []fwPort) {
	t := &nftables.Table{Name: f.table, Family: fam.table}
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
			ex = append(ex, fam.addrMatch(fam.dstOff, netip.PrefixFrom(p.HostIP, p.HostIP.BitLen()))...)
		}
		ex = append(ex, l4proto(p.Proto)...)
		ex = append(ex, dport(p.HostPort)...)
		ex = append(ex,
			&expr.Immediate{Register: 1, Data: p.CtrIP.AsSlice()},
			&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(p.CtrPort)},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: fam.nat, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
		)
		rule(pc, ex...)
	}

	loopback := netip.MustParsePrefix("127.0.0.0/8")
	for _, n := range nets {
		if !n.Internal {
			rule(post, cat(fam.addrMatch(fam.srcOff, n.Subnet), ifname(false, n.Bridge, expr.CmpOpNeq), []expr.Any{&expr.Masq{}})...)
		}
		if fam == famIPv4 {
			rule(post, cat(ifname(false, n.Bridge, expr.CmpOpEq), fam.addrMatch(fam.srcOff, loopback), []expr.Any{&expr.Masq{}})...)
		}
		rule(post, cat(ifname(false, n.Bridge, expr.CmpOpEq), fam.addrMatch(fam.srcOff, n.Subnet), ctStatusDNAT(), []expr.Any{&expr.Masq{}})...)
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
}

// remove deletes the tables if they exist.
func (f *firewall) remove() error {
	c, err := f.conn()
	if err != nil {
		return err
	}
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyIPv6} {
		t := &nftables.Table{Name: f.table, Family: fam}
		c.AddTable(t)
		c.DelTable(t)
	}
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

// addrMatch matches the address at offset (the family's source or
// destination) in p.
func (fam family) addrMatch(offset uint32, p netip.Prefix) []expr.Any {
	p = p.Masked()
	mask := make([]byte, fam.size)
	for i := 0; i < p.Bits(); i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: fam.size},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: fam.size, Mask: mask, Xor: make([]byte, fam.size)},
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
