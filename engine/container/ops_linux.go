package container

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	eventtypes "github.com/docker/docker/api/types/events"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// defaultStopTimeout is dockerd's grace period between the stop signal
// and SIGKILL.
const defaultStopTimeout = 10

// StopOptions are the query of POST /containers/{name}/stop and restart.
type StopOptions struct {
	Signal  string // the stop signal; empty: the container's StopSignal, or SIGTERM
	Timeout *int   // seconds before SIGKILL; nil: the container's StopTimeout, or 10; negative: no limit
}

func errNotRunning(id string) error {
	return errdefs.Conflict(fmt.Errorf("container %s is not running", id))
}

// stopSignal is the signal a stop sends first.
func (c *Container) stopSignal(override string) (syscall.Signal, error) {
	name := override
	if name == "" {
		name = c.Config.StopSignal
	}
	if name == "" {
		return syscall.SIGTERM, nil
	}
	sig, err := ParseSignal(name)
	if err != nil {
		return 0, errdefs.InvalidParameter(err)
	}
	return syscall.Signal(sig), nil
}

// Stop is POST /containers/{name}/stop: the stop signal, then SIGKILL
// after the timeout. A stopped container is a 304. The container is marked
// manually stopped, which its restart policy respects.
func (s *Service) Stop(ctx context.Context, name string, o StopOptions) error {
	c, err := s.store.Get(name)
	if err != nil {
		return err
	}
	sig, err := c.stopSignal(o.Signal)
	if err != nil {
		return err
	}
	l := s.live(c)
	l.op.Lock()
	defer l.op.Unlock()
	if !c.State.IsRunning() {
		return errNotModified{}
	}
	l.stoppedByUser(c)
	if err := s.stopLocked(ctx, c, l, sig, o.Timeout); err != nil {
		return err
	}
	s.event(ctx, c, eventtypes.ActionStop, nil)
	return nil
}

// stopLocked stops the run in progress; a container waiting to be
// restarted is just marked stopped. Call with l.op held.
func (s *Service) stopLocked(ctx context.Context, c *Container, l *live, sig syscall.Signal, timeout *int) error {
	r := l.currentRun()
	if r == nil {
		if c.State.API().Restarting {
			l.mu.Lock()
			es := l.lastExit
			l.mu.Unlock()
			c.State.SetStopped(es.Code, es.OOMKilled, es.ExitedAt)
			return c.Save()
		}
		return nil
	}
	t := defaultStopTimeout
	if c.Config.StopTimeout != nil {
		t = *c.Config.StopTimeout
	}
	if timeout != nil {
		t = *timeout
	}
	if sig != syscall.SIGKILL {
		if err := s.signal(ctx, c, sig); err != nil && !errdefs.IsConflict(err) && !errdefs.IsNotFound(err) {
			return err
		}
		if c.State.API().Paused { // a frozen process cannot act on the signal
			if err := s.cfg.Runtime.Resume(ctx, c.ID); err == nil {
				c.State.SetUnpaused()
			}
		}
		var grace <-chan time.Time
		if t >= 0 {
			timer := time.NewTimer(time.Duration(t) * time.Second)
			defer timer.Stop()
			grace = timer.C
		}
		select {
		case <-r.exited:
			return nil
		case <-grace:
			s.log.Info("container did not exit within the stop timeout, killing it", "container", c.ID, "timeout", t)
		}
	}
	return s.killAndWait(ctx, c, r)
}

// killAndWait sends SIGKILL and waits for the exit to be recorded.
func (s *Service) killAndWait(ctx context.Context, c *Container, r *run) error {
	if err := s.signal(ctx, c, syscall.SIGKILL); err != nil && !errdefs.IsConflict(err) && !errdefs.IsNotFound(err) {
		return err
	}
	select {
	case <-r.exited:
		return nil
	case <-time.After(2 * time.Minute):
		return errdefs.System(fmt.Errorf("container %s did not exit after SIGKILL", c.ID))
	}
}

// signal sends sig through the runtime and logs dockerd's kill event.
func (s *Service) signal(ctx context.Context, c *Container, sig syscall.Signal) error {
	if err := s.cfg.Runtime.Kill(ctx, c.ID, sig); err != nil {
		return err
	}
	s.event(ctx, c, eventtypes.ActionKill, map[string]string{"signal": strconv.Itoa(int(sig))})
	return nil
}

// Kill is POST /containers/{name}/kill. SIGKILL (the default) waits for
// the exit; it, and the container's stop signal, keep the restart policy
// from restarting the container. The signal is checked first, as dockerd
// checks it.
func (s *Service) Kill(ctx context.Context, name, signal string) error {
	sig := syscall.SIGKILL
	if signal != "" {
		n, err := ParseSignal(signal)
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		sig = syscall.Signal(n)
	}
	if s.cfg.Runtime == nil {
		return errNoRuntime()
	}
	c, err := s.store.Get(name)
	if err != nil {
		return err
	}
	stopSig, _ := c.stopSignal("")
	l := s.live(c)
	r := l.currentRun()
	if r == nil || !c.State.IsRunning() {
		return errNotRunning(c.ID)
	}
	if sig == syscall.SIGKILL || sig == stopSig {
		l.stoppedByUser(c)
		_ = c.Save()
	}
	if sig == syscall.SIGKILL {
		return s.killAndWait(ctx, c, r)
	}
	if err := s.signal(ctx, c, sig); err != nil {
		if errdefs.IsConflict(err) || errdefs.IsNotFound(err) {
			return errNotRunning(c.ID)
		}
		return err
	}
	return nil
}

// killForRemoval stops a container for a forced removal: a pending
// restart is cancelled, a run is killed and its exit waited for.
func (s *Service) killForRemoval(ctx context.Context, c *Container) error {
	if s.cfg.Runtime == nil {
		return errNoRuntime()
	}
	l := s.live(c)
	l.op.Lock()
	defer l.op.Unlock()
	l.stoppedByUser(c)
	if r := l.currentRun(); r != nil {
		return s.killAndWait(ctx, c, r)
	}
	return s.stopLocked(ctx, c, l, syscall.SIGKILL, nil)
}

// Restart is POST /containers/{name}/restart: a stop (if running) and a
// start, then dockerd's restart event.
func (s *Service) Restart(ctx context.Context, name string, o StopOptions) error {
	if s.cfg.Runtime == nil {
		return errNoRuntime()
	}
	c, err := s.store.Get(name)
	if err != nil {
		return err
	}
	sig, err := c.stopSignal(o.Signal)
	if err != nil {
		return err
	}
	l := s.live(c)
	l.op.Lock()
	defer l.op.Unlock()
	if c.State.IsRunning() {
		l.stoppedByUser(c)
		if err := s.stopLocked(ctx, c, l, sig, o.Timeout); err != nil {
			return err
		}
	}
	if c.State.RemovalInProgress {
		return errdefs.Conflict(errors.New("container is marked for removal and cannot be started"))
	}
	l.restart.Reset()
	c.Lock()
	c.ManuallyStopped = false
	c.Unlock()
	if err := s.startLocked(context.WithoutCancel(ctx), c, l); err != nil {
		return err
	}
	s.event(ctx, c, eventtypes.ActionRestart, nil)
	return nil
}

// lockForOp finds a container for an operation on its run (pause,
// unpause) and holds its op lock until unlock is called.
func (s *Service) lockForOp(name string) (c *Container, unlock func(), err error) {
	if s.cfg.Runtime == nil {
		return nil, nil, errNoRuntime()
	}
	if c, err = s.store.Get(name); err != nil {
		return nil, nil, err
	}
	l := s.live(c)
	l.op.Lock()
	return c, l.op.Unlock, nil
}

// Pause is POST /containers/{name}/pause: the freezer stops every process.
func (s *Service) Pause(ctx context.Context, name string) error {
	c, unlock, err := s.lockForOp(name)
	if err != nil {
		return err
	}
	defer unlock()
	st := c.State.API()
	switch {
	case !st.Running:
		return errNotRunning(c.ID)
	case st.Paused:
		return errdefs.Conflict(fmt.Errorf("container %s is already paused", c.ID))
	case st.Restarting:
		return errdefs.Conflict(fmt.Errorf("Container %s is restarting, wait until the container is running", c.ID))
	}
	if err := s.cfg.Runtime.Pause(ctx, c.ID); err != nil {
		return fmt.Errorf("cannot pause container %s: %w", c.ID, err)
	}
	c.State.SetPaused()
	_ = c.Save()
	s.event(ctx, c, eventtypes.ActionPause, nil)
	return nil
}

// Unpause is POST /containers/{name}/unpause. Unpausing a container that
// is not paused is a 500, as in dockerd (its error has no class).
func (s *Service) Unpause(ctx context.Context, name string) error {
	c, unlock, err := s.lockForOp(name)
	if err != nil {
		return err
	}
	defer unlock()
	if !c.State.API().Paused {
		return fmt.Errorf("Container %s is not paused", c.ID)
	}
	if err := s.cfg.Runtime.Resume(ctx, c.ID); err != nil {
		return fmt.Errorf("Cannot unpause container %s: %w", c.ID, err)
	}
	c.State.SetUnpaused()
	_ = c.Save()
	s.event(ctx, c, eventtypes.ActionUnPause, nil)
	return nil
}

// Resize is POST /containers/{name}/resize: the terminal's window size.
func (s *Service) Resize(ctx context.Context, name string, height, width uint) error {
	c, err := s.store.Get(name)
	if err != nil {
		return err
	}
	if s.cfg.Runtime == nil || s.live(c).currentRun() == nil {
		return errNotRunning(c.ID)
	}
	return s.cfg.Runtime.Resize(ctx, c.ID, width, height)
}
