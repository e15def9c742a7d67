package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/docker/docker/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/engine/network"
)

// Restorer is a Runtime that can adopt a container which a daemon before
// this one started and left running (inproc does, through libctr's
// per-container monitor). The output from then on goes to stdio, shaped
// as at the container's create; a program that ended while no daemon ran
// is adopted too, and its Wait returns the code it ended with.
type Restorer interface {
	Restore(ctx context.Context, id string, stdio IO) (pid int, err error)
}

// processFile keeps the spec's process of the current run next to the
// record: an adopted run needs it for exec and healthchecks.
const processFile = "process.json"

func saveProcess(c *Container, p *specs.Process) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.root, processFile), b, 0o600)
}

func loadProcess(c *Container) (*specs.Process, error) {
	b, err := os.ReadFile(filepath.Join(c.root, processFile))
	if err != nil {
		return nil, err
	}
	var p specs.Process
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", processFile, err)
	}
	return &p, nil
}

// adopt takes back a container that was running when the last daemon
// died, from the runtime: its record stays as it was (running, or
// paused), its log goes on, its volumes count as mounted again, and it is
// monitored as if this daemon had started it. A container on a network of
// its own gets its sandbox back from the network service; if that fails,
// it is stopped, with its stop signal and timeout, as dockerd does at a
// restart without live-restore, and its record gets the exit code it
// really ends with.
func (s *Service) adopt(ctx context.Context, c *Container, rs Restorer) error {
	l := s.live(c)
	l.op.Lock()
	defer l.op.Unlock()
	proc, err := loadProcess(c)
	if err != nil {
		return err
	}
	r, stdio, err := s.newRun(c, l)
	if err != nil {
		return err
	}
	r.spec = &specs.Spec{Process: proc}
	if r.stdin != nil && !c.Config.Tty {
		// The pipe's writer was the daemon that died: what is attached
		// now cannot reach the program's stdin.
		r.stdin.CloseWithError(errors.New("the stdin of a container adopted from an earlier daemon is closed"))
		stdio.Stdin = nil
	}
	pid, err := rs.Restore(ctx, c.ID, stdio)
	if err != nil {
		r.close()
		return err
	}
	c.mu.Lock()
	for _, mp := range c.MountPoints {
		if mp.Type != mount.TypeVolume || mp.Name == "" || c.mounted[mp.Name] {
			continue
		}
		if _, err := s.mountVolume(ctx, c, mp.Name); err != nil {
			s.log.Warn("volume of an adopted container", "container", c.ID, "volume", mp.Name, "error", err)
		}
	}
	c.mu.Unlock()
	c.State.mu.Lock()
	c.State.Pid = pid
	c.State.mu.Unlock()
	var netErr error
	if ownNetwork(c.HostConfig) {
		if s.cfg.Networks == nil {
			netErr = errors.New("no network service to take the sandbox back")
		} else {
			var j *network.Joined
			if j, netErr = s.cfg.Networks.Rejoin(ctx, joinRequest(c)); netErr == nil {
				s.setJoined(c.ID, j)
			}
		}
	}
	l.mu.Lock()
	l.run = r
	l.mu.Unlock()
	go s.monitor(c, l, r)
	s.startHealthcheck(c, l, r)
	if netErr != nil {
		s.log.Warn("adopted container lost its network: stopping it", "container", c.ID, "error", netErr)
		go s.stopAdopted(c, l)
	}
	return nil
}

// stopAdopted stops an adopted container that cannot go on running.
func (s *Service) stopAdopted(c *Container, l *live) {
	l.op.Lock()
	defer l.op.Unlock()
	if !c.State.IsRunning() {
		return
	}
	sig, t := c.stopDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(t+30)*time.Second)
	defer cancel()
	if err := s.stopLocked(ctx, c, l, sig, &t); err != nil {
		s.log.Warn("adopted container not stopped", "container", c.ID, "error", err)
	}
}

// AdoptRunning runs at daemon start once the runtime is set: each
// container recorded as running is adopted from the runtime when it can
// be. The runtime's cleanup of what was not adopted comes next, then
// Restore, which records the others as exited.
func (s *Service) AdoptRunning(ctx context.Context) {
	rs, ok := s.cfg.Runtime.(Restorer)
	if !ok {
		return
	}
	for _, id := range s.wasRunning {
		c, err := s.store.Get(id)
		if err != nil || !c.State.IsRunning() {
			continue
		}
		if err := s.adopt(ctx, c, rs); err != nil {
			s.log.Info("container not adopted", "container", id, "error", err)
			continue
		}
		s.adopted = append(s.adopted, id)
	}
}

// recordNotAdopted records the containers that were running when the last
// daemon went away and were not adopted, once the runtime's cleanup is
// done with them: exited with 137 when it killed them (killed), 255 when
// their process was gone with its exit code; their rootfs and volumes are
// unmounted, their networks left.
func (s *Service) recordNotAdopted(ctx context.Context, killed []string) {
	wasKilled := map[string]bool{}
	for _, id := range killed {
		wasKilled[id] = true
	}
	adopted := map[string]bool{}
	for _, id := range s.adopted {
		adopted[id] = true
	}
	for _, id := range s.wasRunning {
		c, err := s.store.Get(id)
		if err != nil || adopted[id] {
			continue
		}
		s.CleanupStop(ctx, id) // the rootfs a dead daemon left mounted
		if wasKilled[id] {
			c.State.SetStopped(137, false, time.Now())
			c.State.SetError(137, errors.New("container was running when its daemon stopped without stopping it; killed at daemon start"))
		} else {
			c.State.SetStopped(255, false, time.Now())
		}
		if err := c.Save(); err != nil {
			s.log.Warn("container record not saved", "container", c.ID, "error", err)
		}
	}
}
