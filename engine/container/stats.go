package container

import (
	"context"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
)

// StatsOptions are the query of GET /containers/{name}/stats; Write sends
// one frame.
type StatsOptions struct {
	Stream  bool
	OneShot bool
	Write   func(*containertypes.StatsResponse) error
}

// statsInterval is how often a streamed stats frame is sent (dockerd's).
const statsInterval = time.Second

// Stats is GET /containers/{name}/stats. A frame carries the previous
// frame's CPU counters as precpu_stats, so that clients compute a CPU
// percentage; without Stream (and without OneShot) two samples a second
// apart are taken for the one frame sent, as dockerd does. A container
// that does not run gives empty frames.
func (s *Service) Stats(ctx context.Context, name string, o StatsOptions) error {
	c, err := s.store.Get(name)
	if err != nil {
		return err
	}
	sample := func() *containertypes.StatsResponse {
		st := c.State.API()
		if s.cfg.Runtime != nil && st.Running && !st.Restarting {
			if r, err := s.cfg.Runtime.Stats(ctx, c.ID); err == nil {
				r.Name, r.ID, r.Read = c.GetName(), c.ID, time.Now().UTC()
				return r
			}
		}
		return &containertypes.StatsResponse{Name: c.GetName(), ID: c.ID}
	}
	pause := func() bool {
		t := time.NewTimer(statsInterval)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	first := sample()
	if !o.Stream {
		if first.Read.IsZero() || o.OneShot {
			return o.Write(first)
		}
		if !pause() {
			return ctx.Err()
		}
		second := sample()
		if !second.Read.IsZero() {
			second.PreCPUStats, second.PreRead = first.CPUStats, first.Read
		}
		return o.Write(second)
	}
	prev := first
	if err := o.Write(first); err != nil {
		return err
	}
	for pause() {
		cur := sample()
		if !cur.Read.IsZero() && !prev.Read.IsZero() {
			cur.PreCPUStats, cur.PreRead = prev.CPUStats, prev.Read
		}
		if err := o.Write(cur); err != nil {
			return err
		}
		prev = cur
	}
	return nil
}
