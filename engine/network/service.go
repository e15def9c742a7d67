package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	eventtypes "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/pkg/stringid"
)

// Defaults of the configuration.
const (
	DefaultBridge = "wharf0"
	DefaultMTU    = 1500
	DefaultTable  = "wharf"
)

// EventLogger receives network events; the daemon's *events.Bus is one.
type EventLogger interface {
	Log(ctx context.Context, typ eventtypes.Type, action eventtypes.Action, actor eventtypes.Actor)
}

// Containers resolves the container names that connect and disconnect
// requests carry.
type Containers interface {
	// Lookup finds a container by name, ID or unique ID prefix, and
	// returns its ID and name (without "/").
	Lookup(name string) (id, ctrName string, err error)
}

// Config configures Open.
type Config struct {
	// Root is the daemon's data root; the database is
	// <Root>/network/local-kv.db.
	Root string
	// ExecRoot holds the sandboxes' namespaces (<ExecRoot>/netns).
	ExecRoot string
	// Bridge is the default bridge's device name (--bridge; default
	// wharf0).
	Bridge string
	// BridgeIP is the default bridge's address and prefix (--bip, e.g.
	// 172.17.0.1/16); empty picks the first free default pool.
	BridgeIP string
	// MTU of bridges and veths (--mtu; default 1500).
	MTU int
	// DNS lists the resolvers containers use when they give none (--dns);
	// the embedded DNS server forwards to them. Empty: the nameservers of
	// ResolvConf.
	DNS []string
	// ResolvConf is the host's resolver file (default /etc/resolv.conf).
	ResolvConf string
	// Table is the nftables table (default "wharf"; "wharf-<bridge>"
	// when Bridge is not the default, so daemons side by side keep apart).
	Table string
	// NetnsPath is the namespace bridges and rules are made in (default
	// the daemon's own).
	NetnsPath  string
	Events     EventLogger
	Containers Containers
	Logger     *slog.Logger
}

// Service is the network store and the sandboxes of running containers.
type Service struct {
	cfg   Config
	log   *slog.Logger
	db    *db
	ns    *os.File
	links *links
	fw    *firewall

	// defaultIsUp tells that the default bridge's device was made.
	defaultIsUp bool
	// releaseBridge gives up the claim on the default bridge's name.
	releaseBridge func()
	// forwardSet tells that Open turned IPv4 forwarding on, so Close
	// turns it off again; forward6Set the same for IPv6 (turned on with
	// the first network with IPv6 and a way out).
	forwardSet, forward6Set bool

	mu        sync.Mutex
	nets      map[string]*netRecord // by ID
	sandboxes map[string]*sandbox   // by container ID
	// stale is the sandboxes a daemon before this one left (by container
	// ID), their veths, namespaces and addresses untouched, until Rejoin
	// takes one back or DropStale undoes the rest.
	stale  map[string]*sandbox
	closed bool
}

// Open opens the network store, makes the predefined networks and the
// bridges of user-defined ones, and installs the firewall. The default
// bridge's device is made when a container first joins it. Close undoes
// the host side.
//
// The sandboxes a daemon that died left are kept as they are (their
// containers may have outlived it, under their monitors): their veths,
// namespaces and addresses stay, but not their published ports, which
// the firewall Open installs leaves out. The daemon then takes back the
// containers it adopts and undoes the rest:
//
//	svc, _ := network.Open(ctx, cfg)
//	for each adopted container on a network of its own:
//	    j, err := svc.Rejoin(ctx, req)  // live again: same namespace and addresses
//	    (NotFound: nothing to take back; stop the container)
//	svc.DropStale()                     // the stale sandboxes nobody rejoined go
func Open(ctx context.Context, cfg Config) (_ *Service, retErr error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Bridge == "" {
		cfg.Bridge = DefaultBridge
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.ResolvConf == "" {
		cfg.ResolvConf = "/etc/resolv.conf"
	}
	if cfg.Table == "" {
		cfg.Table = DefaultTable
		if cfg.Bridge != DefaultBridge {
			cfg.Table = DefaultTable + "-" + cfg.Bridge
		}
	}
	if cfg.NetnsPath == "" {
		cfg.NetnsPath = "/proc/self/ns/net"
	}
	if len(cfg.Bridge) > 15 {
		return nil, fmt.Errorf("bridge: name %q is longer than 15 characters", cfg.Bridge)
	}
	dir := filepath.Join(cfg.Root, "network")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	d, err := openDB(filepath.Join(dir, "local-kv.db"))
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: cfg.Logger, db: d, nets: map[string]*netRecord{}, sandboxes: map[string]*sandbox{},
		stale: map[string]*sandbox{}}
	defer func() {
		if retErr != nil {
			s.closeHandles()
		}
	}()
	if s.ns, err = openNetns(cfg.NetnsPath); err != nil {
		return nil, err
	}
	if s.links, err = newLinks(int(s.ns.Fd())); err != nil {
		return nil, err
	}
	s.fw = &firewall{nsFd: int(s.ns.Fd()), table: cfg.Table}
	if err := each(d, bucketNetworks, func(_ string, n *netRecord) { s.nets[n.ID] = n }); err != nil {
		return nil, err
	}
	if err := each(d, bucketSandboxes, func(_ string, sb *sandbox) { s.stale[sb.ContainerID] = sb }); err != nil {
		s.log.Warn("sandbox records unreadable", "error", err)
	}
	if err := s.ensurePredefined(ctx); err != nil {
		return nil, err
	}
	for _, n := range s.sortedNets() {
		if n.isBridge() && !n.Default {
			if err := s.links.ensureBridge(n.Bridge, n.gatewayPrefix(), n.gatewayPrefix6(), n.MTU); err != nil {
				return nil, fmt.Errorf("network %s: %w", n.Name, err)
			}
			if err := s.forward6For(n); err != nil {
				return nil, fmt.Errorf("network %s: %w", n.Name, err)
			}
		}
	}
	if err := s.applyFirewall(); err != nil {
		return nil, err
	}
	if v, err := readSysctl(s.nsFd(), "net/ipv4/ip_forward"); err == nil && strings.TrimSpace(v) == "0" {
		if err := writeSysctl(s.nsFd(), "net/ipv4/ip_forward", "1"); err != nil {
			return nil, fmt.Errorf("enable ip forwarding: %w", err)
		}
		s.forwardSet = true
		s.log.Info("ip forwarding enabled", "sysctl", "net.ipv4.ip_forward")
	}
	return s, nil
}

// Close stops every sandbox still open, undoes the stale ones nobody
// rejoined (as DropStale), deletes the bridges and the firewall table,
// and closes the store. Network records stay; their bridges come back at
// the next Open.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ids := make([]string, 0, len(s.sandboxes))
	for id := range s.sandboxes {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	var errs []error
	for _, id := range ids {
		s.leave(id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropStaleAllLocked()
	if err := s.fw.remove(); err != nil {
		errs = append(errs, err)
	}
	for _, n := range s.nets {
		if n.isBridge() && (!n.Default || s.defaultIsUp) {
			if err := s.links.deleteBridge(n.Bridge); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if s.releaseBridge != nil {
		s.releaseBridge()
	}
	if s.forwardSet {
		if err := writeSysctl(s.nsFd(), "net/ipv4/ip_forward", "0"); err != nil {
			errs = append(errs, err)
		}
	}
	if s.forward6Set {
		if err := writeSysctl(s.nsFd(), "net/ipv6/conf/all/forwarding", "0"); err != nil {
			errs = append(errs, err)
		}
	}
	s.closeHandles()
	return errors.Join(errs...)
}

func (s *Service) closeHandles() {
	if s.links != nil {
		s.links.close()
	}
	if s.ns != nil {
		s.ns.Close()
	}
	_ = s.db.close()
}

func (s *Service) nsFd() int { return int(s.ns.Fd()) }

// ensurePredefined makes the bridge, host and none networks once (their
// IDs are kept) and the default bridge's device.
func (s *Service) ensurePredefined(ctx context.Context) error {
	have := map[string]*netRecord{}
	for _, n := range s.nets {
		if n.Predefined {
			have[n.Name] = n
		}
	}
	for _, p := range []struct{ name, driver string }{{"host", "host"}, {"none", "null"}} {
		if have[p.name] == nil {
			n := &netRecord{ID: stringid.GenerateRandomID(), Name: p.name, Driver: p.driver, Created: time.Now().UTC(),
				Predefined: true, Options: map[string]string{}, Labels: map[string]string{}}
			if err := s.db.put(bucketNetworks, n.ID, n); err != nil {
				return err
			}
			s.nets[n.ID] = n
		}
	}
	br := have["bridge"]
	if br == nil {
		br = &netRecord{ID: stringid.GenerateRandomID(), Name: "bridge", Driver: "bridge", Created: time.Now().UTC(),
			Predefined: true, Default: true, Labels: map[string]string{}}
	}
	br.Bridge, br.MTU = s.cfg.Bridge, s.cfg.MTU
	br.Options = map[string]string{
		"com.docker.network.bridge.default_bridge":       "true",
		"com.docker.network.bridge.enable_icc":           "true",
		"com.docker.network.bridge.enable_ip_masquerade": "true",
		"com.docker.network.bridge.host_binding_ipv4":    "0.0.0.0",
		"com.docker.network.bridge.name":                 s.cfg.Bridge,
		"com.docker.network.driver.mtu":                  fmt.Sprint(s.cfg.MTU),
	}
	if err := s.pickDefaultSubnet(br); err != nil {
		return err
	}
	s.nets[br.ID] = br
	return s.db.put(bucketNetworks, br.ID, br)
}

// pickDefaultSubnet gives the default bridge its subnet (see
// defaultSubnet); a changed one gets a fresh pool. Call with the subnet
// lock held, or at Open.
func (s *Service) pickDefaultSubnet(br *netRecord) error {
	want, gw, err := s.defaultSubnet(br)
	if err != nil {
		return err
	}
	if br.Pool == nil || br.Pool.Subnet != want || br.Pool.Gateway != gw {
		if br.Pool, err = newPool(want, netip.Prefix{}, gw); err != nil {
			return fmt.Errorf("bip: %w", err)
		}
	}
	return nil
}

// defaultUp makes the default bridge's device when the first container
// joins it (so a daemon whose containers never use it leaves the host
// alone), checking its subnet again under the subnet lock: another
// daemon may have taken it since Open. Call with s.mu held.
func (s *Service) defaultUp(ctx context.Context, br *netRecord) error {
	if s.defaultIsUp {
		return nil
	}
	unlock, err := lockSubnets(ctx, s.nsFd())
	if err != nil {
		return err
	}
	defer unlock()
	release, err := claimBridge(s.nsFd(), br.Bridge)
	if err != nil {
		return err
	}
	if err := s.pickDefaultSubnet(br); err != nil {
		release()
		return err
	}
	if err := s.links.ensureBridge(br.Bridge, br.gatewayPrefix(), netip.Prefix{}, br.MTU); err != nil {
		release()
		return fmt.Errorf("default bridge %s: %w", br.Bridge, err)
	}
	s.defaultIsUp, s.releaseBridge = true, release
	if err := s.db.put(bucketNetworks, br.ID, br); err != nil {
		return err
	}
	return s.applyFirewall()
}

// defaultSubnet is the default bridge's subnet and gateway: --bip, or the
// one it had when its bridge is still there, or the first free pool.
func (s *Service) defaultSubnet(br *netRecord) (netip.Prefix, netip.Addr, error) {
	if s.cfg.BridgeIP != "" {
		p, err := netip.ParsePrefix(s.cfg.BridgeIP)
		if err != nil || !p.Addr().Is4() {
			return netip.Prefix{}, netip.Addr{}, fmt.Errorf("bip: invalid address %q: want an IPv4 CIDR such as 172.17.0.1/16", s.cfg.BridgeIP)
		}
		return p.Masked(), p.Addr(), nil
	}
	used, err := s.links.usedPrefixes(br.Bridge)
	if err != nil {
		return netip.Prefix{}, netip.Addr{}, err
	}
	if br.Pool != nil && !overlapsAny(br.Pool.Subnet, used) {
		return br.Pool.Subnet, br.Pool.Gateway, nil
	}
	for _, n := range s.nets {
		if n.Pool != nil && n.ID != br.ID {
			used = append(used, n.Pool.Subnet)
		}
	}
	p, err := pickSubnet(used)
	if err != nil {
		return netip.Prefix{}, netip.Addr{}, err
	}
	return p, p.Addr().Next(), nil
}

// sortedNets lists the networks by name.
func (s *Service) sortedNets() []*netRecord {
	out := make([]*netRecord, 0, len(s.nets))
	for _, n := range s.nets {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Service) event(ctx context.Context, action eventtypes.Action, n *netRecord, extra map[string]string) {
	if s.cfg.Events == nil {
		return
	}
	attrs := map[string]string{"name": n.Name, "type": n.Driver}
	for k, v := range extra {
		attrs[k] = v
	}
	s.cfg.Events.Log(ctx, eventtypes.NetworkEventType, action, eventtypes.Actor{ID: n.ID, Attributes: attrs})
}
