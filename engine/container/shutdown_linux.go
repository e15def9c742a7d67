package container

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"
)

// Shutdown stops every running container for the daemon's exit: each gets
// its stop signal and its stop timeout (cut short to fit ctx), then
// SIGKILL, so that its record holds its real exit code. Restart policies
// do not restart them now; at the next daemon start, Restore starts the
// ones whose policy says so, as dockerd does.
//
// It may be called more than once (when the daemon is told to stop, and
// from its shutdown hook): the first call does the work, later ones wait
// for it, within their own ctx.
func (s *Service) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.shutdownDone = make(chan struct{})
		go func() {
			s.shutdownErr = s.shutdown(ctx)
			close(s.shutdownDone)
		}()
	})
	select {
	case <-s.shutdownDone:
		return s.shutdownErr
	case <-ctx.Done():
		return errors.New("containers still running at the shutdown bound")
	}
}

func (s *Service) shutdown(ctx context.Context) error {
	s.shuttingDown.Store(true)
	var wg sync.WaitGroup
	for _, c := range s.store.All() {
		l := s.live(c)
		l.restart.Cancel()
		if s.cfg.Runtime == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Running is checked under the op lock: a container whose start
			// is still in progress (its program may already print) is
			// stopped once the start is done, not skipped.
			l.op.Lock()
			defer l.op.Unlock()
			if !c.State.IsRunning() {
				return
			}
			sig, t := c.stopDefaults()
			if dl, ok := ctx.Deadline(); ok {
				// Leave time for the SIGKILL and the unmounts.
				if left := int(time.Until(dl)/time.Second) - 2; left < t {
					t = max(left, 0)
				}
			}
			if err := s.stopLocked(ctx, c, l, sig, &t); err != nil {
				s.log.Warn("container not stopped at shutdown", "container", c.ID, "error", err)
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		s.autoRemoves.Wait() // --rm removals of the containers just stopped
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("containers still running at the shutdown bound")
	}
}

// Restore runs at daemon start after AdoptRunning and the runtime's
// cleanup, which killed the containers in killed: the containers that were
// running and not adopted are recorded as exited (see recordNotAdopted);
// the --rm (AutoRemove) containers that are not running are removed with
// their anonymous volumes, as dockerd removes them when it restores; and
// the containers whose restart policy asks for it are started again:
// always, unless-stopped when not stopped by hand, on-failure after a
// failure.
func (s *Service) Restore(ctx context.Context, killed []string) {
	s.recordNotAdopted(ctx, killed)
	for _, c := range s.store.All() {
		if !c.HostConfig.AutoRemove || c.State.IsRunning() {
			continue
		}
		if err := s.Remove(ctx, c.ID, RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			s.log.Warn("auto-remove at daemon start failed", "container", c.ID, "error", err)
		}
	}
	if s.cfg.Runtime == nil {
		return
	}
	for _, c := range s.store.All() {
		p := c.HostConfig.RestartPolicy
		c.Lock()
		started, manual := c.HasBeenStarted, c.ManuallyStopped
		c.Unlock()
		if !started || c.State.IsRunning() {
			continue
		}
		if !(p.IsAlways() || (p.IsUnlessStopped() && !manual) || (p.IsOnFailure() && c.State.ExitCode() != 0)) {
			continue
		}
		go func() {
			l := s.live(c)
			l.op.Lock()
			defer l.op.Unlock()
			if c.State.IsRunning() || s.shuttingDown.Load() {
				return
			}
			if err := s.startLocked(context.WithoutCancel(ctx), c, l); err != nil {
				s.log.Warn("restart at daemon start failed", "container", c.ID, "error", err)
			}
		}()
	}
}

// stopDefaults are the container's stop signal (SIGTERM when its
// StopSignal cannot be parsed) and stop timeout, for a stop the daemon
// decides itself.
func (c *Container) stopDefaults() (syscall.Signal, int) {
	sig, err := c.stopSignal("")
	if err != nil {
		sig = syscall.SIGTERM
	}
	t := defaultStopTimeout
	if c.Config.StopTimeout != nil && *c.Config.StopTimeout >= 0 {
		t = *c.Config.StopTimeout
	}
	return sig, t
}
