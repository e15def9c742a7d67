package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"

	eventtypes "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	bolt "go.etcd.io/bbolt"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// ctrRecord is the networks a container is attached to, kept while the
// container exists (running or not), as dockerd keeps them in the
// container's NetworkSettings.
type ctrRecord struct {
	// Mode is the container's network mode ("bridge", a network name,
	// "host", "none", "container:<id>").
	Mode string
	// Primary is the ID of the mode's network (its endpoint is eth0 and
	// holds the published ports); "" outside bridge networks.
	Primary  string
	Networks map[string]*attachment // by network ID
}

// attachment is a container's configuration on one network.
type attachment struct {
	NetworkName string
	Aliases     []string `json:",omitempty"`
	IPv4        string   `json:",omitempty"` // a static address asked for (--ip)
	LastIP      string   `json:",omitempty"` // the address it last had, given again if free
	IPv6        string   `json:",omitempty"` // a static IPv6 address asked for (--ip6)
	LastIP6     string   `json:",omitempty"`
	MacAddress  string   `json:",omitempty"`
	Links       []string `json:",omitempty"`
	DriverOpts  map[string]string
}

// order is the primary network first, then the others by name.
func (r *ctrRecord) order() []string {
	var rest []string
	for nid := range r.Networks {
		if nid != r.Primary {
			rest = append(rest, nid)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return r.Networks[rest[i]].NetworkName < r.Networks[rest[j]].NetworkName })
	if r.Primary == "" {
		return rest
	}
	return append([]string{r.Primary}, rest...)
}

func (s *Service) ctrRecord(id string) (*ctrRecord, error) {
	var rec *ctrRecord
	err := s.db.b.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketContainers).Get([]byte(id))
		if b == nil {
			return nil
		}
		rec = &ctrRecord{}
		return json.Unmarshal(b, rec)
	})
	if err != nil {
		return nil, errdefs.System(err)
	}
	if rec != nil && rec.Networks == nil {
		rec.Networks = map[string]*attachment{}
	}
	return rec, nil
}

// modeNetwork resolves a network mode to its network: "bridge" and
// "default" are the default bridge. Call with s.mu held.
func (s *Service) modeNetwork(mode string) (*netRecord, error) {
	if mode == "" || mode == "default" {
		mode = "bridge"
	}
	return s.find(mode)
}

func attachmentFrom(n *netRecord, es *network.EndpointSettings) (*attachment, error) {
	att := &attachment{NetworkName: n.Name}
	if es == nil {
		return att, nil
	}
	if len(es.Aliases) > 0 && n.Default {
		return nil, errdefs.InvalidParameter(errors.New("network-scoped alias is supported only for containers in user defined networks"))
	}
	att.Aliases, att.Links, att.MacAddress, att.DriverOpts = es.Aliases, es.Links, es.MacAddress, es.DriverOpts
	if es.IPAMConfig != nil && es.IPAMConfig.IPv4Address != "" {
		a, err := netip.ParseAddr(es.IPAMConfig.IPv4Address)
		if err != nil || !a.Is4() {
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid IPv4 address: %s", es.IPAMConfig.IPv4Address))
		}
		if !n.userSubnet() {
			return nil, errdefs.InvalidParameter(errors.New("user specified IP address is supported only when connecting to networks with user configured subnets"))
		}
		if !n.Pool.Subnet.Contains(a) {
			return nil, errdefs.InvalidParameter(fmt.Errorf("no configured subnet or ip-range contain the IP address %s", a))
		}
		att.IPv4 = a.String()
	}
	if es.IPAMConfig != nil && es.IPAMConfig.IPv6Address != "" {
		a, err := staticIPv6(n, es.IPAMConfig.IPv6Address)
		if err != nil {
			return nil, err
		}
		att.IPv6 = a
	}
	return att, nil
}

// Register records the networks of a new container: its mode's network
// with the endpoint settings given for it, and any other network the
// request names (API 1.44+). An unknown network is dockerd's 404.
func (s *Service) Register(ctx context.Context, containerID, mode string, endpoints map[string]*network.EndpointSettings) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registerLocked(containerID, mode, endpoints)
}

func (s *Service) registerLocked(containerID, mode string, endpoints map[string]*network.EndpointSettings) error {
	rec := &ctrRecord{Mode: mode, Networks: map[string]*attachment{}}
	switch {
	case mode == "host" || mode == "none" || len(mode) > 10 && mode[:10] == "container:":
		// No networks of their own; endpoint settings are ignored as dockerd does.
	default:
		n, err := s.modeNetwork(mode)
		if err != nil {
			return err
		}
		if !n.isBridge() {
			return errdefs.InvalidParameter(fmt.Errorf("network %s cannot be used as a network mode", n.Name))
		}
		for key, es := range endpoints {
			en, err := s.modeNetwork(key) // the CLI names the default bridge "default"
			if err != nil {
				return err
			}
			if !en.isBridge() {
				return errdefs.InvalidParameter(fmt.Errorf("container cannot be connected to network %s", en.Name))
			}
			att, err := attachmentFrom(en, es)
			if err != nil {
				return err
			}
			rec.Networks[en.ID] = att
		}
		if rec.Networks[n.ID] == nil {
			rec.Networks[n.ID] = &attachment{NetworkName: n.Name}
		}
		rec.Primary = n.ID
	}
	if err := s.db.put(bucketContainers, containerID, rec); err != nil {
		return errdefs.System(err)
	}
	return nil
}

// Forget drops a removed container's networking.
func (s *Service) Forget(ctx context.Context, containerID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leaveLocked(containerID)
	if err := s.db.delete(bucketContainers, containerID); err != nil {
		s.log.Warn("container network record not deleted", "container", containerID, "error", err)
	}
}

// Connect is POST /networks/{id}/connect: the container is attached to
// the network, and, if it runs, gets an endpoint on it at once.
func (s *Service) Connect(ctx context.Context, netName, ctrName string, es *network.EndpointSettings) error {
	id, name, err := s.lookupContainer(ctrName)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.find(netName)
	if err != nil {
		return err
	}
	rec, err := s.ctrRecord(id)
	if err != nil {
		return err
	}
	if rec == nil {
		return errdefs.InvalidParameter(fmt.Errorf("container %s has no network record", name))
	}
	switch {
	case n.Driver == "host" || rec.Mode == "host" || len(rec.Mode) > 10 && rec.Mode[:10] == "container:":
		return errdefs.Forbidden(errors.New("container sharing network namespace with another container or host cannot be connected to any other network"))
	case n.Driver == "null" || rec.Mode == "none":
		return errdefs.Forbidden(errors.New("container cannot be connected to multiple networks with one of the networks in private (none) mode"))
	}
	if rec.Networks[n.ID] != nil {
		return errdefs.Forbidden(fmt.Errorf("endpoint with name %s already exists in network %s", name, n.Name))
	}
	att, err := attachmentFrom(n, es)
	if err != nil {
		return err
	}
	rec.Networks[n.ID] = att
	if sb := s.sandboxes[id]; sb != nil {
		if err := s.addEndpoint(sb, n, att, ""); err != nil {
			delete(rec.Networks, n.ID)
			return err
		}
		if err := s.applyFirewall(); err != nil {
			return errdefs.System(err)
		}
	}
	if err := s.db.put(bucketContainers, id, rec); err != nil {
		return errdefs.System(err)
	}
	s.event(ctx, eventtypes.ActionConnect, n, map[string]string{"container": id})
	return nil
}

// Disconnect is POST /networks/{id}/disconnect.
func (s *Service) Disconnect(ctx context.Context, netName, ctrName string, force bool) error {
	id, name, err := s.lookupContainer(ctrName)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.find(netName)
	if err != nil {
		return err
	}
	if n.Driver == "host" {
		return errdefs.Forbidden(errors.New("container cannot be disconnected from host network or connected to host network"))
	}
	rec, err := s.ctrRecord(id)
	if err != nil {
		return err
	}
	if rec == nil || rec.Networks[n.ID] == nil {
		return errdefs.Forbidden(fmt.Errorf("container %s is not connected to network %s", name, n.Name))
	}
	if sb := s.sandboxes[id]; sb != nil {
		s.removeEndpoint(sb, n.ID)
		if err := s.putSandbox(sb); err != nil {
			s.log.Warn("sandbox record not saved", "container", id, "error", err)
		}
		if err := s.applyFirewall(); err != nil {
			return errdefs.System(err)
		}
	}
	delete(rec.Networks, n.ID)
	if rec.Primary == n.ID {
		rec.Primary = ""
		for _, nid := range rec.order() {
			rec.Primary = nid
			break
		}
	}
	if err := s.db.put(bucketContainers, id, rec); err != nil {
		return errdefs.System(err)
	}
	s.event(ctx, eventtypes.ActionDisconnect, n, map[string]string{"container": id})
	return nil
}

func (s *Service) lookupContainer(name string) (string, string, error) {
	if s.cfg.Containers == nil {
		return "", "", errdefs.NotImplemented(errors.New("no container store"))
	}
	return s.cfg.Containers.Lookup(name)
}

// Settings is a container's networking as inspect shows it: its networks
// by name (with addresses while it runs), its published ports, and its
// namespace's path (SandboxKey).
func (s *Service) Settings(containerID string, exposed nat.PortSet, bindings nat.PortMap) (map[string]*network.EndpointSettings, nat.PortMap, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	nets := map[string]*network.EndpointSettings{}
	rec, _ := s.ctrRecord(containerID)
	sb := s.sandboxes[containerID]
	if rec == nil {
		return nets, nil, ""
	}
	switch rec.Mode {
	case "host", "none":
		if n, err := s.find(rec.Mode); err == nil {
			nets[n.Name] = &network.EndpointSettings{NetworkID: n.ID}
		}
		return nets, nat.PortMap{}, ""
	}
	for nid, att := range rec.Networks {
		n := s.nets[nid]
		if n == nil {
			continue
		}
		es := &network.EndpointSettings{NetworkID: nid, Aliases: att.Aliases, Links: att.Links, DriverOpts: att.DriverOpts}
		if att.IPv4 != "" || att.IPv6 != "" {
			es.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: att.IPv4, IPv6Address: att.IPv6}
		}
		if sb != nil {
			if ep := sb.Endpoints[nid]; ep != nil {
				es.EndpointID = ep.EndpointID
				es.IPAddress = ep.Addr.Addr().String()
				es.IPPrefixLen = ep.Addr.Bits()
				es.MacAddress = ep.MAC.String()
				es.DNSNames = ep.DNSNames
				if n.Pool != nil && !n.Internal {
					es.Gateway = n.Pool.Gateway.String()
				}
				if ep.Addr6.IsValid() {
					es.GlobalIPv6Address, es.GlobalIPv6PrefixLen = ep.Addr6.Addr().String(), ep.Addr6.Bits()
					if !n.Internal {
						es.IPv6Gateway = n.Pool6.Gateway.String()
					}
				}
			}
		}
		nets[n.Name] = es
	}
	if sb == nil {
		return nets, nil, ""
	}
	return nets, portMap(sb.ports, exposed, bindings), sb.NetnsPath
}
