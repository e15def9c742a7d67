package network

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// A container outlives the daemon that started it (it runs under a
// monitor of its own), and so does its sandbox: the namespace's bind
// mount, the veths, the addresses in the pools and the sandbox's record.
// Open keeps such sandboxes as stale ones; the next daemon takes back
// those of the containers it adopts, and undoes the others:
//
//	stale (Open)  --Rejoin-->     live, as after Join (Leave undoes it)
//	              --Join-->       undone first, then made anew
//	              --Leave/Forget-> undone
//	              --DropStale-->  undone (as are namespaces without a record)
//
// A daemon stopping with --live-restore leaves its sandboxes for the next
// one as a dying one does: Detach instead of Close.
//
// What does not outlive the daemon is made again by Rejoin: the sockets
// holding the published host ports (the same host ports where still
// free), the DNAT rules, and the embedded DNS server with its redirect.

// Rejoin takes back the stale sandbox of a container that outlived the
// daemon which made it: it is live again exactly as if Join had just made
// it, reusing its namespace, veths and addresses; the published ports of
// req are reserved again (the host ports the sandbox had, where they fit
// and are free), the embedded DNS server starts again on user networks,
// and the firewall gets the ports back. It returns what Join would.
//
// A container without a stale sandbox is errdefs.NotFound, and so is one
// whose namespace is gone (what is left of it is undone). On any other
// failure the sandbox is undone, as DropStale would, and the error
// returned.
func (s *Service) Rejoin(ctx context.Context, req JoinRequest) (_ *Joined, retErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errdefs.Unavailable(errors.New("the network service is closed"))
	}
	id := req.ContainerID
	sb := s.stale[id]
	if sb == nil {
		return nil, errdefs.NotFound(fmt.Errorf("container %s has no sandbox to rejoin", id))
	}
	ns, err := openNetns(sb.NetnsPath)
	if err == nil && !isNetns(ns) {
		ns.Close()
		err = errors.New("not a network namespace")
	}
	if err != nil {
		s.dropStaleLocked(sb)
		return nil, errdefs.NotFound(fmt.Errorf("network namespace of container %s: %w", id, err))
	}
	delete(s.stale, id)
	sb.ns = ns
	if req.Name != "" {
		sb.Name = req.Name
	}
	if sb.Endpoints == nil {
		sb.Endpoints = map[string]*sbEndpoint{}
	}
	prefer := append([]publishedPort(nil), sb.Published...)
	s.sandboxes[id] = sb
	defer func() {
		if retErr != nil {
			s.leaveLocked(id)
		}
	}()
	rec, err := s.ctrRecord(id)
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.Primary == "" {
		return nil, errdefs.InvalidParameter(fmt.Errorf("container %s has no network attachment", id))
	}
	// Endpoints as the container's record has them: a crash between a
	// disconnect's two records leaves one too many.
	for nid := range sb.Endpoints {
		if rec.Networks[nid] == nil {
			s.removeEndpoint(sb, nid)
		}
	}
	for _, nid := range rec.order() {
		n, err := s.networkUp(ctx, rec, nid)
		if err != nil {
			return nil, err
		}
		if ep := sb.Endpoints[nid]; ep != nil {
			if err := s.keepEndpoint(sb, n, ep); err != nil {
				return nil, err
			}
		} else if err := s.addEndpoint(sb, n, rec.Networks[nid], ""); err != nil {
			return nil, err
		}
	}
	return s.complete(sb, req, rec, prefer)
}

// keepEndpoint checks an endpoint a rejoined sandbox brings along: its
// addresses are its own in n's pools still (taken again if the pool lost
// them), and its veth is there, on n's bridge and up. Call with s.mu held.
func (s *Service) keepEndpoint(sb *sandbox, n *netRecord, ep *sbEndpoint) error {
	if !n.isBridge() {
		return errdefs.InvalidParameter(fmt.Errorf("network %s (driver %s) cannot be joined by a container with its own namespace", n.Name, n.Driver))
	}
	if err := n.Pool.reserve(ep.Addr.Addr(), sb.ContainerID); err != nil {
		return errdefs.Conflict(fmt.Errorf("address %s on network %s: %w", ep.Addr.Addr(), n.Name, err))
	}
	if ep.Addr6.IsValid() {
		if n.Pool6 == nil {
			return errdefs.Conflict(fmt.Errorf("address %s on network %s: the network has no IPv6 any more", ep.Addr6.Addr(), n.Name))
		}
		if err := n.Pool6.reserve(ep.Addr6.Addr(), sb.ContainerID); err != nil {
			return errdefs.Conflict(fmt.Errorf("address %s on network %s: %w", ep.Addr6.Addr(), n.Name, err))
		}
	}
	if err := s.links.reattach(n.Bridge, ep.HostVeth); err != nil {
		return errdefs.System(fmt.Errorf("endpoint of container %s on network %s: %w", sb.ContainerID, n.Name, err))
	}
	return s.db.put(bucketNetworks, n.ID, n)
}

// DropStale undoes the stale sandboxes nobody rejoined (see Open): their
// veths, namespaces, addresses and records; then it removes the
// namespaces under <exec-root>/netns that no sandbox records (a daemon
// that died between making one and recording it). The namespaces of live
// sandboxes, rejoined or newly joined, stay.
func (s *Service) DropStale() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.dropStaleAllLocked()
}

func (s *Service) dropStaleAllLocked() {
	ids := make([]string, 0, len(s.stale))
	for id := range s.stale {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s.dropStaleLocked(s.stale[id])
	}
	dir := filepath.Join(s.cfg.ExecRoot, "netns")
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if p := filepath.Join(dir, e.Name()); !s.nsLive(p) {
			if err := removeNetns(p); err != nil {
				s.log.Warn("stale network namespace not removed", "path", p, "error", err)
			}
		}
	}
}

// dropStaleLocked undoes one stale sandbox. Call with s.mu held.
func (s *Service) dropStaleLocked(sb *sandbox) {
	for nid := range sb.Endpoints {
		s.removeEndpoint(sb, nid)
	}
	if !s.nsLive(sb.NetnsPath) {
		if err := removeNetns(sb.NetnsPath); err != nil {
			s.log.Warn("stale network namespace not removed", "path", sb.NetnsPath, "error", err)
		}
	}
	if err := s.db.delete(bucketSandboxes, sb.ContainerID); err != nil {
		s.log.Warn("sandbox record not deleted", "container", sb.ContainerID, "error", err)
	}
	delete(s.stale, sb.ContainerID)
}

// nsLive reports whether a live sandbox uses the namespace at path. Call
// with s.mu held.
func (s *Service) nsLive(path string) bool {
	for _, sb := range s.sandboxes {
		if sb.NetnsPath == path {
			return true
		}
	}
	return false
}

// Detach closes the service and leaves the host side as it is, for a
// daemon that stops while its containers go on running (--live-restore):
// sandboxes, bridges, firewall rules and sysctls stay, and so do the
// records, so the next daemon's Open finds the sandboxes stale and
// Rejoin takes them back. Only what dies with the process goes: the
// embedded DNS servers, the sockets holding published host ports (the
// DNAT rules keep serving them meanwhile), the bridge claim. Close does
// nothing after it.
func (s *Service) Detach() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for _, sb := range s.sandboxes {
		if sb.dns != nil {
			sb.dns.close()
		}
		for _, m := range sb.ports {
			m.release()
		}
		if sb.ns != nil {
			sb.ns.Close()
		}
	}
	if s.releaseBridge != nil {
		s.releaseBridge()
	}
	s.closeHandles()
}
