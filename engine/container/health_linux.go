package container

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	eventtypes "github.com/docker/docker/api/types/events"
)

// Healthchecks, as dockerd runs them. While a container with a
// healthcheck (Config.Healthcheck, its own or its image's) runs, a probe
// is exec'd in it every Interval (StartInterval while it is still
// "starting" within its StartPeriod), and each result moves State.Health:
//
//	starting --exit 0--> healthy --Retries failures in a row--> unhealthy
//	    |                   ^                                       |
//	    |                   └----------------exit 0-----------------┘
//	    └--Retries failures in a row (those in StartPeriod not counted)--> unhealthy
//
// A probe fails by exiting non-zero, by outliving Timeout (exit -1, the
// probe is killed) or by not starting at all (a paused container, exit
// -1). The last 5 results are kept in Health.Log, their output cut at
// 4 KiB; each change of status is a "health_status: <status>" event. When
// the container stops its health is "unhealthy", as dockerd reports it;
// a start makes it "starting" again.

const (
	defaultProbeInterval = 30 * time.Second
	defaultProbeTimeout  = 30 * time.Second
	defaultStartInterval = 5 * time.Second
	defaultProbeRetries  = 3
	maxHealthLog         = 5
	maxProbeOutput       = 4096
)

// probeCommand is the command of c's healthcheck, nil when it has none.
func probeCommand(c *Container) []string {
	h := c.Config.Healthcheck
	if h == nil || len(h.Test) == 0 {
		return nil
	}
	switch h.Test[0] {
	case "CMD":
		if len(h.Test) > 1 {
			return append([]string(nil), h.Test[1:]...)
		}
	case "CMD-SHELL":
		if len(h.Test) > 1 {
			shell := c.Config.Shell
			if len(shell) == 0 {
				shell = []string{"/bin/sh", "-c"}
			}
			return append(append([]string(nil), shell...), h.Test[1])
		}
	}
	return nil // NONE, or nothing to run
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// startHealthcheck marks c "starting" and probes it until the run r ends.
// Called once r has started.
func (s *Service) startHealthcheck(c *Container, l *live, r *run) {
	cmd := probeCommand(c)
	if cmd == nil {
		return
	}
	c.State.mu.Lock()
	h := containertypes.Health{Status: containertypes.Starting}
	if old := c.State.Health; old != nil {
		h.Log = old.Log
	}
	c.State.Health = &h
	started := c.State.StartedAt
	c.State.mu.Unlock()
	go s.healthMonitor(c, l, r, cmd, started)
}

func (s *Service) healthMonitor(c *Container, l *live, r *run, cmd []string, started time.Time) {
	hc := c.Config.Healthcheck
	interval := orDefault(hc.Interval, defaultProbeInterval)
	startInterval := orDefault(hc.StartInterval, defaultStartInterval)
	timeout := orDefault(hc.Timeout, defaultProbeTimeout)
	retries := hc.Retries
	if retries <= 0 {
		retries = defaultProbeRetries
	}
	next := func() time.Duration {
		if time.Since(started) < hc.StartPeriod && s.healthStatus(c) == containertypes.Starting {
			return startInterval
		}
		return interval
	}
	timer := time.NewTimer(next())
	defer timer.Stop()
	for {
		select {
		case <-r.exited:
			s.healthStopped(c, l, r)
			return
		case <-timer.C:
		}
		res := s.probe(c, r, cmd, timeout)
		select {
		case <-r.exited:
			s.healthStopped(c, l, r)
			return
		default:
		}
		s.healthResult(c, res, retries, hc.StartPeriod)
		timer.Reset(next())
	}
}

func (s *Service) healthStatus(c *Container) string {
	c.State.mu.Lock()
	defer c.State.mu.Unlock()
	if c.State.Health == nil {
		return containertypes.NoHealthcheck
	}
	return c.State.Health.Status
}

// probe runs one probe in the run r and returns its result.
func (s *Service) probe(c *Container, r *run, cmd []string, timeout time.Duration) *containertypes.HealthcheckResult {
	res := &containertypes.HealthcheckResult{Start: time.Now(), ExitCode: -1}
	fail := func(err error) *containertypes.HealthcheckResult {
		res.End, res.Output = time.Now(), err.Error()
		return res
	}
	if err := execable(c, c.ID); err != nil {
		return fail(err)
	}
	sp, err := execProcess(c, r.spec.Process, containertypes.ExecOptions{Cmd: cmd})
	if err != nil {
		return fail(err)
	}
	out := &limitedBuffer{}
	p, err := s.cfg.Runtime.Exec(context.Background(), c.ID, sp, IO{Stdout: out, Stderr: out})
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	st, err := p.Wait(ctx)
	if err != nil {
		// Too slow: killed, and waited for, so probes never pile up.
		_ = p.Signal(syscall.SIGKILL)
		wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
		_, _ = p.Wait(wctx)
		wcancel()
		return fail(fmt.Errorf("Health check exceeded timeout (%v)", timeout))
	}
	res.End, res.ExitCode, res.Output = time.Now(), st.Code, out.String()
	return res
}

// healthResult records a probe's result and moves the status.
func (s *Service) healthResult(c *Container, res *containertypes.HealthcheckResult, retries int, startPeriod time.Duration) {
	c.State.mu.Lock()
	if c.State.Health == nil {
		c.State.mu.Unlock()
		return
	}
	// A new Health each time: inspect may be encoding the old one.
	h := *c.State.Health
	old := h.Status
	h.Log = append(append([]*containertypes.HealthcheckResult(nil), h.Log...), res)
	if len(h.Log) > maxHealthLog {
		h.Log = h.Log[len(h.Log)-maxHealthLog:]
	}
	if res.ExitCode == 0 {
		h.FailingStreak = 0
		h.Status = containertypes.Healthy
	} else if h.Status != containertypes.Starting || res.Start.Sub(c.State.StartedAt) >= startPeriod {
		h.FailingStreak++
		if h.FailingStreak >= retries {
			h.Status = containertypes.Unhealthy
		}
	}
	c.State.Health = &h
	c.State.mu.Unlock()
	if h.Status != old {
		s.event(context.Background(), c, eventtypes.Action(string(eventtypes.ActionHealthStatus)+": "+h.Status), nil)
		if err := c.Save(); err != nil {
			s.log.Warn("container record not saved", "container", c.ID, "error", err)
		}
	}
}

// healthStopped marks the health of a stopped container unhealthy, unless
// a newer run has begun meanwhile (a restart by policy).
func (s *Service) healthStopped(c *Container, l *live, r *run) {
	if cur := l.currentRun(); cur != nil && cur != r {
		return
	}
	c.State.mu.Lock()
	if c.State.Health == nil || c.State.Running && !c.State.Restarting {
		c.State.mu.Unlock()
		return
	}
	h := *c.State.Health
	h.Status = containertypes.Unhealthy
	c.State.Health = &h
	c.State.mu.Unlock()
	if err := c.Save(); err != nil {
		s.log.Warn("container record not saved", "container", c.ID, "error", err)
	}
}

// limitedBuffer keeps the first maxProbeOutput bytes written to it, from
// any goroutine (a probe's stdout and stderr are copied concurrently).
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxProbeOutput - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
