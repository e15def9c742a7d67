package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	eventtypes "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/pkg/stringid"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/ident"
)

// errNotFound is dockerd's 404 for a network.
func errNotFound(name string) error {
	return errdefs.NotFound(fmt.Errorf("network %s not found", name))
}

// find resolves a network by full ID, name, or unique ID prefix, as
// dockerd does. Call with s.mu held.
func (s *Service) find(name string) (*netRecord, error) {
	if name == "" {
		return nil, errNotFound(name)
	}
	if n, ok := s.nets[name]; ok {
		return n, nil
	}
	for _, n := range s.nets {
		if n.Name == name {
			return n, nil
		}
	}
	var match []*netRecord
	for _, n := range s.nets {
		if n.matchesPrefix(name) {
			match = append(match, n)
		}
	}
	switch len(match) {
	case 0:
		return nil, errNotFound(name)
	case 1:
		return match[0], nil
	}
	return nil, errdefs.InvalidParameter(fmt.Errorf("network %s is ambiguous (%d matches found based on ID prefix)", name, len(match)))
}

// inspect is a network as the API shows it, with its active endpoints.
// Call with s.mu held.
func (s *Service) inspect(n *netRecord) network.Inspect {
	out := network.Inspect{
		Name: n.Name, ID: n.ID, Created: n.Created, Scope: "local", Driver: n.Driver, EnableIPv4: true, EnableIPv6: n.EnableIPv6,
		IPAM: n.ipam(), Internal: n.Internal, Attachable: n.Attachable, Containers: map[string]network.EndpointResource{},
		Options: nonNilMap(n.Options), Labels: nonNilMap(n.Labels),
	}
	if n.Driver != "bridge" {
		out.EnableIPv4 = false
	}
	for id, sb := range s.sandboxes {
		if ep := sb.Endpoints[n.ID]; ep != nil {
			er := network.EndpointResource{Name: sb.Name, EndpointID: ep.EndpointID,
				MacAddress: ep.MAC.String(), IPv4Address: ep.Addr.String()}
			if ep.Addr6.IsValid() {
				er.IPv6Address = ep.Addr6.String()
			}
			out.Containers[id] = er
		}
	}
	return out
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Inspect is GET /networks/{id}.
func (s *Service) Inspect(ctx context.Context, name string) (network.Inspect, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.find(name)
	if err != nil {
		return network.Inspect{}, err
	}
	return s.inspect(n), nil
}

var listFilters = map[string]bool{"dangling": true, "driver": true, "id": true, "label": true, "name": true, "scope": true, "type": true}

// List is GET /networks: every network that passes the filters, by name.
func (s *Service) List(ctx context.Context, f filters.Args) ([]network.Summary, error) {
	if err := f.Validate(listFilters); err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	if f.Contains("type") {
		for _, t := range f.Get("type") {
			if t != "custom" && t != "builtin" {
				return nil, errdefs.InvalidParameter(fmt.Errorf("invalid filter: 'type'='%s'", t))
			}
		}
	}
	var dangling *bool
	if f.Contains("dangling") {
		switch {
		case f.ExactMatch("dangling", "true") || f.ExactMatch("dangling", "1"):
			v := true
			dangling = &v
		case f.ExactMatch("dangling", "false") || f.ExactMatch("dangling", "0"):
			v := false
			dangling = &v
		default:
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid filter 'dangling=%s'", f.Get("dangling")))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []network.Summary{}
	for _, n := range s.sortedNets() {
		in := s.inspect(n)
		switch {
		case f.Contains("name") && !f.Match("name", n.Name),
			f.Contains("id") && !f.Match("id", n.ID),
			f.Contains("driver") && !f.ExactMatch("driver", n.Driver),
			f.Contains("scope") && !f.ExactMatch("scope", "local"),
			!f.MatchKVList("label", n.Labels),
			f.Contains("type") && !(f.ExactMatch("type", "builtin") && n.Predefined || f.ExactMatch("type", "custom") && !n.Predefined),
			dangling != nil && (n.Predefined || (len(in.Containers) == 0) != *dangling):
			continue
		}
		// The list does not show containers, as dockerd's.
		in.Containers = map[string]network.EndpointResource{}
		out = append(out, in)
	}
	return out, nil
}

// validName is dockerd's rule for network names, for messages; the check
// is ident.IsName.
const validName = `^` + ident.NameChars + `*$`

// Create is POST /networks/create: a bridge network with its subnet (from
// the request or the default pools), bridge device and rules.
func (s *Service) Create(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	if req.Name == "" {
		return network.CreateResponse{}, errdefs.InvalidParameter(errors.New("network name is required"))
	}
	if !ident.IsName(req.Name) {
		return network.CreateResponse{}, errdefs.InvalidParameter(fmt.Errorf("invalid network name %q: must match %s", req.Name, validName))
	}
	driver := req.Driver
	if driver == "" {
		driver = "bridge"
	}
	switch driver {
	case "bridge":
	case "host", "null":
		return network.CreateResponse{}, errdefs.Forbidden(fmt.Errorf("only one instance of %q network is allowed", driver))
	default:
		return network.CreateResponse{}, errdefs.NotFound(fmt.Errorf("could not find plugin %s in v1 plugin registry: plugin not found", driver))
	}
	enable6 := req.EnableIPv6 != nil && *req.EnableIPv6
	if req.EnableIPv4 != nil && !*req.EnableIPv4 {
		return network.CreateResponse{}, errdefs.InvalidParameter(errors.New("IPv4 cannot be disabled on wharf networks"))
	}
	if req.Scope != "" && req.Scope != "local" {
		return network.CreateResponse{}, errdefs.InvalidParameter(fmt.Errorf("scope %q is not supported: wharf networks are local", req.Scope))
	}
	if req.ConfigOnly || req.ConfigFrom != nil || req.Ingress {
		return network.CreateResponse{}, errdefs.NotImplemented(errors.New("config-only, config-from and ingress networks are not supported by wharf"))
	}
	var cfg network.IPAMConfig
	var cfg6 *network.IPAMConfig
	var ipamOpts map[string]string
	var ipamCfgs []network.IPAMConfig
	if req.IPAM != nil {
		if req.IPAM.Driver != "" && req.IPAM.Driver != "default" {
			return network.CreateResponse{}, errdefs.NotFound(fmt.Errorf("could not find plugin %s in v1 plugin registry: plugin not found", req.IPAM.Driver))
		}
		ipamOpts = req.IPAM.Options
		have4 := false
		for i, c := range req.IPAM.Config {
			if p, err := netip.ParsePrefix(c.Subnet); err == nil && p.Addr().Is6() {
				if cfg6 != nil {
					return network.CreateResponse{}, errMultipleSubnets
				}
				cfg6 = &req.IPAM.Config[i]
				continue
			}
			if have4 {
				return network.CreateResponse{}, errMultipleSubnets
			}
			cfg, have4 = c, true
		}
		ipamCfgs = req.IPAM.Config
	}
	// An IPv6 subnet without EnableIPv6 is recorded (inspect shows it) and
	// not used, as dockerd 20.10 does.
	if enable6 && !s.hasIPv6() {
		return network.CreateResponse{}, errdefs.InvalidParameter(errors.New("IPv6 is disabled on this host (no /proc/sys/net/ipv6)"))
	}
	mtu := s.cfg.MTU
	bridge := ""
	for k, v := range req.Options {
		switch k {
		case "com.docker.network.driver.mtu":
			m, err := strconv.Atoi(v)
			if err != nil || m < 68 || m > 65535 {
				return network.CreateResponse{}, errdefs.InvalidParameter(fmt.Errorf("invalid MTU %q", v))
			}
			mtu = m
		case "com.docker.network.bridge.name":
			if len(v) == 0 || len(v) > 15 {
				return network.CreateResponse{}, errdefs.InvalidParameter(fmt.Errorf("invalid bridge name %q", v))
			}
			bridge = v
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return network.CreateResponse{}, errdefs.Unavailable(errors.New("the network service is closed"))
	}
	for _, n := range s.nets {
		if n.Name == req.Name {
			return network.CreateResponse{}, errdefs.Conflict(fmt.Errorf("network with name %s already exists", req.Name))
		}
		if bridge != "" && n.Bridge == bridge {
			return network.CreateResponse{}, errdefs.Conflict(fmt.Errorf("bridge name %s is already used by network %s", bridge, n.Name))
		}
	}
	id := stringid.GenerateRandomID()
	if bridge == "" {
		bridge = "br-" + id[:12]
	}
	unlock, err := lockSubnets(ctx, s.nsFd())
	if err != nil {
		return network.CreateResponse{}, err
	}
	defer unlock()
	p, err := s.newNetworkPool(cfg)
	if err != nil {
		return network.CreateResponse{}, err
	}
	var p6 *pool
	if enable6 {
		if p6, err = s.newNetworkPool6(cfg6); err != nil {
			return network.CreateResponse{}, err
		}
	}
	n := &netRecord{ID: id, Name: req.Name, Driver: driver, Created: time.Now().UTC(), Internal: req.Internal,
		Attachable: req.Attachable, Options: req.Options, Labels: req.Labels, IPAMOptions: ipamOpts, IPAMConfig: ipamCfgs,
		Bridge: bridge, MTU: mtu, Pool: p, EnableIPv6: enable6, Pool6: p6}
	if err := s.links.ensureBridge(n.Bridge, n.gatewayPrefix(), n.gatewayPrefix6(), n.MTU); err != nil {
		_ = s.links.deleteBridge(n.Bridge)
		return network.CreateResponse{}, errdefs.System(err)
	}
	if err := s.forward6For(n); err != nil {
		_ = s.links.deleteBridge(n.Bridge)
		return network.CreateResponse{}, errdefs.System(err)
	}
	s.nets[n.ID] = n
	if err := s.applyFirewall(); err != nil {
		delete(s.nets, n.ID)
		_ = s.links.deleteBridge(n.Bridge)
		return network.CreateResponse{}, errdefs.System(err)
	}
	if err := s.db.put(bucketNetworks, n.ID, n); err != nil {
		delete(s.nets, n.ID)
		_ = s.links.deleteBridge(n.Bridge)
		_ = s.applyFirewall()
		return network.CreateResponse{}, errdefs.System(err)
	}
	s.event(ctx, eventtypes.ActionCreate, n, nil)
	return network.CreateResponse{ID: n.ID}, nil
}

// errMultipleSubnets is dockerd's 403 for a second subnet of a family.
var errMultipleSubnets = errdefs.Forbidden(errors.New("bridge driver doesn't support multiple subnets"))

// errPoolOverlap is dockerd's 403 for a subnet overlapping another
// network's.
var errPoolOverlap = errdefs.Forbidden(errors.New("Pool overlaps with other one on this address space"))

// newNetworkPool makes the pool of a new network: the client's subnet,
// range, gateway and auxiliary addresses, or the first free default pool.
// Call with s.mu and the subnet lock held.
func (s *Service) newNetworkPool(c network.IPAMConfig) (*pool, error) {
	var mine []netip.Prefix
	for _, n := range s.nets {
		if n.Pool != nil {
			mine = append(mine, n.Pool.Subnet)
		}
	}
	if c.Subnet != "" {
		return clientPool(c, mine, false)
	}
	if c.IPRange != "" || c.Gateway != "" {
		return nil, errdefs.InvalidParameter(errors.New("a gateway or ip range needs a subnet"))
	}
	used, err := s.links.usedPrefixes("")
	if err != nil {
		return nil, errdefs.System(err)
	}
	subnet, err := pickSubnet(append(used, mine...))
	if err != nil {
		return nil, errdefs.Forbidden(err)
	}
	p, err := newPool(subnet, netip.Prefix{}, netip.Addr{})
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	return p, reserveAux(p, c.AuxAddress, false)
}

// clientPool is the pool of an IPAM config with a subnet: the client's
// subnet (not overlapping mine, the other networks'), range, gateway and
// auxiliary addresses. For an IPv6 pool (v6) the gateway and auxiliary
// addresses must be IPv6 ones.
func clientPool(c network.IPAMConfig, mine []netip.Prefix, v6 bool) (*pool, error) {
	subnet, err := netip.ParsePrefix(c.Subnet)
	if err != nil {
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid subnet %s : invalid CIDR address: %s", c.Subnet, c.Subnet))
	}
	if overlapsAny(subnet.Masked(), mine) {
		return nil, errPoolOverlap
	}
	var ipRange netip.Prefix
	if c.IPRange != "" {
		if ipRange, err = netip.ParsePrefix(c.IPRange); err != nil {
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid ip-range %s : invalid CIDR address: %s", c.IPRange, c.IPRange))
		}
	}
	var gw netip.Addr
	if c.Gateway != "" {
		if gw, err = netip.ParseAddr(c.Gateway); err != nil || (v6 && !gw.Is6()) {
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid gateway %s", c.Gateway))
		}
	}
	p, err := newPool(subnet, ipRange, gw)
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	return p, reserveAux(p, c.AuxAddress, v6)
}

// reserveAux takes a pool's auxiliary addresses (IPv6 ones for v6).
func reserveAux(p *pool, aux map[string]string, v6 bool) error {
	for name, a := range aux {
		addr, err := netip.ParseAddr(a)
		if err != nil || (v6 && !addr.Is6()) {
			return errdefs.InvalidParameter(fmt.Errorf("invalid auxiliary address %s=%s", name, a))
		}
		if err := p.reserve(addr, "aux:"+name); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("auxiliary address %s: %w", name, err))
		}
	}
	return nil
}

// Remove is DELETE /networks/{id}: refused for the predefined networks and
// while containers run on it.
func (s *Service) Remove(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.find(name)
	if err != nil {
		return err
	}
	return s.removeLocked(ctx, n)
}

func (s *Service) removeLocked(ctx context.Context, n *netRecord) error {
	if n.Predefined {
		return errdefs.Forbidden(fmt.Errorf("%s is a pre-defined network and cannot be removed", n.Name))
	}
	for _, sb := range s.sandboxes {
		if sb.Endpoints[n.ID] != nil {
			return errdefs.Forbidden(fmt.Errorf("error while removing network: network %s id %s has active endpoints", n.Name, n.ID))
		}
	}
	delete(s.nets, n.ID)
	if err := s.applyFirewall(); err != nil {
		s.nets[n.ID] = n
		return errdefs.System(err)
	}
	if err := s.links.deleteBridge(n.Bridge); err != nil {
		s.log.Warn("bridge not deleted", "bridge", n.Bridge, "error", err)
	}
	if err := s.db.delete(bucketNetworks, n.ID); err != nil {
		return errdefs.System(err)
	}
	s.event(ctx, eventtypes.ActionDestroy, n, nil)
	return nil
}
