package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	eventtypes "github.com/docker/docker/api/types/events"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/logger/jsonfile"
	"github.com/wharf-project/wharf/engine/snapshots"
)

// Exit codes dockerd records for a start that failed before the program
// ran.
const (
	exitCmdNotFound        = 127
	exitCmdCannotBeInvoked = 126
	exitUnknown            = 128
)

// Start is POST /containers/{name}/start: a 501 without a runtime, a 304
// for a running container. A start through the API resets the restart
// policy's count and the "manually stopped" mark.
func (s *Service) Start(ctx context.Context, name string) error {
	rt := s.cfg.Runtime
	if rt == nil {
		return errNoRuntime()
	}
	c, err := s.store.Get(name)
	if err != nil {
		return err
	}
	err = s.apiStart(ctx, c)
	if err != nil && !IsNotModified(err) && c.HostConfig.AutoRemove {
		// As dockerd: a --rm container that cannot start is removed, and
		// the client waiting for its removal is released.
		if rerr := s.Remove(context.WithoutCancel(ctx), c.ID, RemoveOptions{Force: true, RemoveVolumes: true}); rerr != nil {
			s.log.Warn("auto-remove after a failed start failed", "container", c.ID, "error", rerr)
		}
	}
	return err
}

func (s *Service) apiStart(ctx context.Context, c *Container) error {
	if s.shuttingDown.Load() {
		return errdefs.Unavailable(errors.New("the daemon is shutting down"))
	}
	l := s.live(c)
	l.op.Lock()
	defer l.op.Unlock()
	st := c.State.API()
	switch {
	case st.Paused:
		return errdefs.Conflict(errors.New("cannot start a paused container, try unpause instead"))
	case st.Running && !st.Restarting:
		return errNotModified{}
	case c.State.RemovalInProgress || st.Dead:
		return errdefs.Conflict(errors.New("container is marked for removal and cannot be started"))
	}
	l.restart.Reset()
	c.Lock()
	c.ManuallyStopped, c.RestartCount = false, 0
	c.Unlock()
	return s.startLocked(context.WithoutCancel(ctx), c, l)
}

// startLocked runs the container's program: rootfs and volumes mounted,
// the log opened, the runtime's container created with the streams
// connected, then started; a goroutine waits for the exit. Call with l.op
// held.
func (s *Service) startLocked(ctx context.Context, c *Container, l *live) (retErr error) {
	rt := s.cfg.Runtime
	spec, err := s.PrepareStart(ctx, c.ID)
	if err != nil {
		s.startFailed(c, err)
		return err
	}
	r, stdio, err := s.newRun(c, l)
	if err != nil {
		s.CleanupStop(ctx, c.ID)
		return s.startFailed(c, err)
	}
	r.spec = spec
	defer func() {
		if retErr != nil {
			r.close()
			s.CleanupStop(ctx, c.ID)
			retErr = s.startFailed(c, retErr)
		}
	}()
	if err := makeWorkdir(spec.Root.Path, spec.Process.Cwd); err != nil {
		return errdefs.System(err)
	}
	if _, adoptable := rt.(Restorer); adoptable { // only an adopter reads it
		if err := saveProcess(c, spec.Process); err != nil {
			return errdefs.System(err)
		}
	}
	if err := rt.Create(ctx, c.ID, spec, stdio); err != nil {
		return err
	}
	if cs := c.HostConfig.ConsoleSize; c.Config.Tty && cs[0] > 0 && cs[1] > 0 {
		// The size the client had at create, until its first resize.
		if err := rt.Resize(ctx, c.ID, cs[1], cs[0]); err != nil {
			s.log.Warn("initial console size not set", "container", c.ID, "error", err)
		}
	}
	l.mu.Lock()
	l.run = r
	l.mu.Unlock()
	pid, err := rt.Start(ctx, c.ID)
	if err != nil {
		l.mu.Lock()
		l.run = nil
		l.mu.Unlock()
		_ = rt.Delete(ctx, c.ID)
		return err
	}
	c.State.SetRunning(pid, time.Now())
	c.Lock()
	c.HasBeenStarted = true
	c.Unlock()
	if err := c.Save(); err != nil {
		s.log.Warn("container record not saved", "container", c.ID, "error", err)
	}
	s.event(ctx, c, eventtypes.ActionStart, nil)
	go s.monitor(c, l, r)
	s.started(c, l, r, pid)
	return nil
}

// makeWorkdir creates a missing working directory dir in rootfs, as
// dockerd does (owned by root, mode 0755), resolving it inside the rootfs.
// A dir that exists as something else is refused with dockerd's message.
func makeWorkdir(rootfs, dir string) error {
	rel := strings.TrimPrefix(path.Clean("/"+dir), "/")
	if rel == "" {
		return nil
	}
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return err
	}
	defer root.Close()
	if fi, err := root.Stat(rel); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("Cannot mkdir: %s is not a directory", dir)
		}
		return nil
	}
	if err := root.MkdirAll(rel, 0o755); err != nil {
		return fmt.Errorf("create working directory %s: %w", dir, err)
	}
	return nil
}

// createWorkdir makes a new container's working directory in its snapshot
// (mounts ms, on its rootfs directory for the time it takes), as dockerd
// does at create: diff and commit show it before any start, and a working
// directory that is a file is refused before the container exists.
func createWorkdir(c *Container, ms []snapshots.Mount) (retErr error) {
	if c.Config.WorkingDir == "" {
		return nil
	}
	rootfs := c.rootfsDir()
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return errdefs.System(err)
	}
	if err := snapshots.MountAll(ms, rootfs); err != nil {
		return errdefs.System(fmt.Errorf("mount rootfs of %s: %w", c.ID, err))
	}
	defer func() {
		if err := snapshots.UnmountAll(rootfs); err != nil && retErr == nil {
			retErr = errdefs.System(fmt.Errorf("unmount rootfs of %s: %w", c.ID, err))
		}
	}()
	return makeWorkdir(rootfs, c.Config.WorkingDir)
}

// newRun opens the log of a run of the container's program and makes the
// streams the program writes to: into the log and to attached clients.
func (s *Service) newRun(c *Container, l *live) (*run, IO, error) {
	r := &run{exited: make(chan struct{})}
	var outLog, errLog *jsonfile.LineWriter
	if c.HostConfig.LogConfig.Type != "none" {
		opts, err := jsonfile.ParseOptions(c.HostConfig.LogConfig.Config)
		if err != nil {
			return nil, IO{}, errdefs.InvalidParameter(err)
		}
		path := filepath.Join(c.root, c.ID+"-json.log")
		if r.log, err = jsonfile.Open(path, opts); err != nil {
			return nil, IO{}, errdefs.System(err)
		}
		c.Lock()
		c.LogPath = path
		c.Unlock()
		sink := func(m jsonfile.Message) { _ = r.log.Log(m) }
		outLog, errLog = jsonfile.NewLineWriter("stdout", sink), jsonfile.NewLineWriter("stderr", sink)
		r.lines = []*jsonfile.LineWriter{outLog, errLog}
	}
	stdio := IO{Terminal: c.Config.Tty, Stdout: &outWriter{streams: l.streams, log: lineOrNil(outLog)}}
	if !c.Config.Tty {
		stdio.Stderr = &outWriter{streams: l.streams, stderr: true, log: lineOrNil(errLog)}
	}
	if c.Config.OpenStdin {
		r.stdin, _ = l.streams.stdin()
		stdio.Stdin = r.stdin
	}
	return r, stdio, nil
}

func lineOrNil(l *jsonfile.LineWriter) interface{ Write([]byte) (int, error) } {
	if l == nil {
		return nil
	}
	return l
}

// close flushes the run's unfinished lines and closes its log.
func (r *run) close() {
	for _, l := range r.lines {
		_ = l.Close()
	}
	if r.log != nil {
		_ = r.log.Close()
	}
}

// startFailed records why a start failed and gives the error dockerd's
// class: a program that cannot be found or run is the user's mistake
// (400), with exit code 127 or 126.
func (s *Service) startFailed(c *Container, err error) error {
	msg := err.Error()
	code := exitUnknown
	switch {
	case strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory"):
		code = exitCmdNotFound
		err = errdefs.InvalidParameter(err)
	case strings.Contains(msg, syscall.EACCES.Error()) || strings.Contains(msg, syscall.EISDIR.Error()):
		code = exitCmdCannotBeInvoked
		err = errdefs.InvalidParameter(err)
	}
	c.State.SetError(code, err)
	if serr := c.Save(); serr != nil {
		s.log.Warn("container record not saved", "container", c.ID, "error", serr)
	}
	return err
}

// monitor waits for the run's program to end and records it: the log is
// closed, attachments end, the runtime's container and the mounts go,
// waiters wake; then the restart policy may start it again, or AutoRemove
// removes it.
func (s *Service) monitor(c *Container, l *live, r *run) {
	ctx := context.Background()
	rt := s.cfg.Runtime
	es, err := rt.Wait(ctx, c.ID)
	if err != nil {
		s.log.Warn("container wait failed", "container", c.ID, "error", err)
		es = ExitStatus{Code: 255, ExitedAt: time.Now()}
	}
	r.close()
	l.streams.endRun()
	if err := rt.Delete(ctx, c.ID); err != nil && !errdefs.IsNotFound(err) {
		s.log.Warn("runtime delete failed", "container", c.ID, "error", err)
	}
	s.CleanupStop(ctx, c.ID)

	c.Lock()
	manually := c.ManuallyStopped
	c.Unlock()
	c.State.mu.Lock()
	ran := es.ExitedAt.Sub(c.State.StartedAt)
	c.State.mu.Unlock()
	restart, backoff := l.restart.ShouldRestart(c.HostConfig.RestartPolicy, es.Code, manually || s.shuttingDown.Load(), ran)
	if restart {
		c.State.SetRestarting(es.Code, es.ExitedAt)
		c.State.mu.Lock()
		c.State.OOMKilled = es.OOMKilled
		c.State.mu.Unlock()
		c.Lock()
		c.RestartCount++
		c.Unlock()
	} else {
		c.State.SetStopped(es.Code, es.OOMKilled, es.ExitedAt)
	}
	if err := c.Save(); err != nil {
		s.log.Warn("container record not saved", "container", c.ID, "error", err)
	}
	// The events first: whoever waits for this exit (a stop, a kill)
	// logs its own event after die, as dockerd does.
	if es.OOMKilled {
		s.event(ctx, c, eventtypes.ActionOOM, nil)
	}
	s.event(ctx, c, eventtypes.ActionDie, map[string]string{"exitCode": fmt.Sprint(es.Code), "execDuration": fmt.Sprint(int(ran.Seconds()))})
	l.mu.Lock()
	l.run = nil
	l.exitSeq++
	l.lastExit = es
	l.notifyLocked()
	l.mu.Unlock()
	// The removal is counted before anyone waiting for the exit wakes, so
	// a daemon shutdown that waited for this exit also waits for it.
	autoRemove := !restart && c.HostConfig.AutoRemove
	if autoRemove {
		s.autoRemoves.Add(1)
	}
	close(r.exited)
	if restart {
		go s.restartAfter(c, l, es, backoff)
		return
	}
	if autoRemove {
		defer s.autoRemoves.Done()
		if err := s.Remove(ctx, c.ID, RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !errdefs.IsNotFound(err) {
			s.log.Warn("auto-remove failed", "container", c.ID, "error", err)
		}
	}
}

// restartAfter starts the container again once the back-off has passed,
// unless the restart was cancelled (a stop, a removal, daemon shutdown).
func (s *Service) restartAfter(c *Container, l *live, es ExitStatus, backoff <-chan error) {
	err := <-backoff
	l.restart.done()
	l.op.Lock()
	defer l.op.Unlock()
	st := c.State.API()
	if !st.Restarting || c.State.RemovalInProgress {
		return // someone else settled it meanwhile
	}
	if err == nil && !s.shuttingDown.Load() {
		err = s.startLocked(context.Background(), c, l)
		if err == nil {
			return
		}
		s.log.Warn("restart by policy failed", "container", c.ID, "error", err)
	}
	c.State.SetStopped(es.Code, es.OOMKilled, es.ExitedAt)
	if err := c.Save(); err != nil {
		s.log.Warn("container record not saved", "container", c.ID, "error", err)
	}
}
