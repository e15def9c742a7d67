package container

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	eventtypes "github.com/docker/docker/api/types/events"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// execConfig is one exec instance: made by POST /containers/{name}/exec,
// run once by POST /exec/{id}/start, inspected until its container goes.
type execConfig struct {
	ID          string
	ContainerID string
	Opts        containertypes.ExecOptions

	mu       sync.Mutex
	started  bool
	running  bool
	exitCode *int
	pid      int
	proc     Process
	ended    time.Time
}

// execKeep is how long a finished exec stays inspectable (dockerd's exec
// garbage collection runs every 5 minutes).
const execKeep = 5 * time.Minute

// ExecInspect is GET /exec/{id}/json, with dockerd's field names.
type ExecInspect struct {
	ID            string
	Running       bool
	ExitCode      *int
	ProcessConfig ExecProcessConfig
	OpenStdin     bool
	OpenStderr    bool
	OpenStdout    bool
	CanRemove     bool
	ContainerID   string
	DetachKeys    []byte
	Pid           int
}

// ExecProcessConfig is the process part of ExecInspect.
type ExecProcessConfig struct {
	Tty        bool     `json:"tty"`
	Entrypoint string   `json:"entrypoint"`
	Arguments  []string `json:"arguments"`
	Privileged *bool    `json:"privileged,omitempty"`
	User       string   `json:"user,omitempty"`
}

// ExecStartConfig is POST /exec/{id}/start: detached, or with the
// client's streams from Open (called once the exec is known to exist).
type ExecStartConfig struct {
	Detach      bool
	ConsoleSize *[2]uint // height, width
	Open        func(tty bool) (AttachStreams, error)
}

func errNoSuchExec(id string) error {
	return errdefs.NotFound(fmt.Errorf("No such exec instance: %s", id))
}

func (s *Service) getExec(id string) (*execConfig, error) {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	e, ok := s.execIndex[id]
	if !ok {
		return nil, errNoSuchExec(id)
	}
	return e, nil
}

// ExecCreate is POST /containers/{name}/exec.
func (s *Service) ExecCreate(ctx context.Context, name string, o containertypes.ExecOptions) (string, error) {
	c, err := s.store.Get(name)
	if err != nil {
		return "", err
	}
	if len(o.Cmd) == 0 {
		return "", errdefs.InvalidParameter(errors.New("No exec command specified"))
	}
	if err := execable(c, name); err != nil {
		return "", err
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	e := &execConfig{ID: hex.EncodeToString(b), ContainerID: c.ID, Opts: o}
	l := s.live(c)
	s.liveMu.Lock()
	if s.execIndex == nil {
		s.execIndex = map[string]*execConfig{}
	}
	s.execIndex[e.ID] = e
	s.liveMu.Unlock()
	l.mu.Lock()
	l.execs[e.ID] = e
	var old []string
	for id, x := range l.execs {
		x.mu.Lock()
		if !x.ended.IsZero() && time.Since(x.ended) > execKeep {
			old = append(old, id)
			delete(l.execs, id)
		}
		x.mu.Unlock()
	}
	l.mu.Unlock()
	s.liveMu.Lock()
	for _, id := range old {
		delete(s.execIndex, id)
	}
	s.liveMu.Unlock()
	s.event(ctx, c, eventtypes.Action(string(eventtypes.ActionExecCreate)+": "+strings.Join(o.Cmd, " ")), map[string]string{"execID": e.ID})
	return e.ID, nil
}

// execable refuses an exec into a container that does not run, with
// dockerd's messages: a paused one is named as the client named it (name;
// the ID when the exec starts).
func execable(c *Container, name string) error {
	st := c.State.API()
	switch {
	case !st.Running:
		return errNotRunning(c.ID)
	case st.Paused:
		return errdefs.Conflict(fmt.Errorf("Container %s is paused, unpause the container before exec", name))
	case st.Restarting:
		return errdefs.Conflict(fmt.Errorf("Container %s is restarting, wait until the container is running", c.ID))
	}
	return nil
}

// ExecStart is POST /exec/{id}/start: it runs the process and, unless
// detached, returns when it has exited and its output has been sent. An
// error after Open (the client already has its 101) is written into the
// output stream, as dockerd does, and the exit code is 126 (127 for a
// command that does not exist).
func (s *Service) ExecStart(ctx context.Context, id string, o ExecStartConfig) error {
	e, err := s.getExec(id)
	if err != nil {
		return err
	}
	e.mu.Lock()
	if e.started {
		e.mu.Unlock()
		return errdefs.Conflict(fmt.Errorf("Error: Exec command %s is already running", id))
	}
	e.started = true
	e.mu.Unlock()
	c, err := s.store.Get(e.ContainerID)
	if err != nil {
		return err
	}
	var streams AttachStreams
	if !o.Detach {
		if streams, err = o.Open(e.Opts.Tty); err != nil {
			return err
		}
	}
	p, err := s.execStart(ctx, c, e, streams)
	if err != nil {
		code := exitCmdCannotBeInvoked
		if strings.Contains(err.Error(), "executable file not found") || strings.Contains(err.Error(), "no such file or directory") {
			code = exitCmdNotFound
		}
		e.mu.Lock()
		e.exitCode, e.ended = &code, time.Now()
		e.mu.Unlock()
		if o.Detach || streams.Stdout == nil {
			return err
		}
		_, _ = streams.Stdout.Write([]byte(err.Error() + "\r\n"))
		return nil
	}
	if o.ConsoleSize != nil && e.Opts.Tty {
		_ = p.Resize(o.ConsoleSize[1], o.ConsoleSize[0])
	}
	finish := func() {
		st, err := p.Wait(context.Background())
		code := st.Code
		if err != nil {
			code = 126
		}
		e.mu.Lock()
		e.running, e.exitCode, e.ended = false, &code, time.Now()
		e.mu.Unlock()
		s.event(context.Background(), c, eventtypes.ActionExecDie, map[string]string{"execID": e.ID, "exitCode": fmt.Sprint(code)})
	}
	if o.Detach {
		go finish()
		return nil
	}
	finish()
	return nil
}

// execStart builds the exec's process from the container's and runs it.
func (s *Service) execStart(ctx context.Context, c *Container, e *execConfig, streams AttachStreams) (Process, error) {
	if err := execable(c, c.ID); err != nil {
		return nil, err
	}
	r := s.live(c).currentRun()
	if r == nil || r.spec == nil || r.spec.Process == nil {
		return nil, errNotRunning(c.ID)
	}
	sp, err := execProcess(c, r.spec.Process, e.Opts)
	if err != nil {
		return nil, err
	}
	var io IO
	io.Terminal = e.Opts.Tty
	if e.Opts.AttachStdin {
		io.Stdin = streams.Stdin
	}
	if e.Opts.AttachStdout {
		io.Stdout = streams.Stdout
	}
	if e.Opts.AttachStderr && !e.Opts.Tty {
		io.Stderr = streams.Stderr
	}
	p, err := s.cfg.Runtime.Exec(context.WithoutCancel(ctx), c.ID, sp, io)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.running, e.pid, e.proc = true, p.Pid(), p
	e.mu.Unlock()
	s.event(ctx, c, eventtypes.Action(string(eventtypes.ActionExecStart)+": "+strings.Join(e.Opts.Cmd, " ")), map[string]string{"execID": e.ID})
	return p, nil
}

// execProcess is the container's process with the exec's command,
// terminal, environment (added to and overriding the container's), working
// directory, user and, with Privileged, every capability.
func execProcess(c *Container, base *specs.Process, o containertypes.ExecOptions) (*specs.Process, error) {
	p := *base
	p.Terminal = o.Tty
	p.ConsoleSize = nil
	p.Args = append([]string(nil), o.Cmd...)
	p.Env = mergeEnv(base.Env, o.Env)
	if o.WorkingDir != "" {
		p.Cwd = o.WorkingDir
	}
	if o.User != "" {
		u, err := resolveUser(c.rootfsDir(), o.User, c.HostConfig.GroupAdd)
		if err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
		p.User = specs.User{UID: u.UID, GID: u.GID, AdditionalGids: u.Groups}
		p.Env = mergeEnv(p.Env, []string{"HOME=" + u.Home})
		if hasEnv(o.Env, "HOME") {
			p.Env = mergeEnv(p.Env, o.Env)
		}
	}
	if o.Privileged {
		all := boundingCaps()
		p.Capabilities = &specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all}
	}
	return &p, nil
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			return true
		}
	}
	return false
}

// mergeEnv is base with add's variables set (replacing same-named ones).
func mergeEnv(base, add []string) []string {
	out := append([]string(nil), base...)
	for _, kv := range add {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, e := range out {
			if ek, _, _ := strings.Cut(e, "="); ek == k {
				out[i], replaced = kv, true
				break
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

// ExecInspect is GET /exec/{id}/json.
func (s *Service) ExecInspect(ctx context.Context, id string) (*ExecInspect, error) {
	e, err := s.getExec(id)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := &ExecInspect{
		ID: e.ID, Running: e.running, ExitCode: e.exitCode, ContainerID: e.ContainerID, Pid: e.pid,
		OpenStdin: e.Opts.AttachStdin, OpenStdout: e.Opts.AttachStdout, OpenStderr: e.Opts.AttachStderr,
		ProcessConfig: ExecProcessConfig{Tty: e.Opts.Tty, User: e.Opts.User, Privileged: &e.Opts.Privileged},
		DetachKeys:    []byte{},
	}
	if len(e.Opts.Cmd) > 0 {
		out.ProcessConfig.Entrypoint, out.ProcessConfig.Arguments = e.Opts.Cmd[0], append([]string{}, e.Opts.Cmd[1:]...)
	}
	if !e.running {
		out.Pid = 0
	}
	return out, nil
}

// ExecResize is POST /exec/{id}/resize.
func (s *Service) ExecResize(ctx context.Context, id string, height, width uint) error {
	e, err := s.getExec(id)
	if err != nil {
		return err
	}
	e.mu.Lock()
	p, running := e.proc, e.running
	e.mu.Unlock()
	if !running || p == nil {
		return errdefs.Conflict(fmt.Errorf("exec %s is not running", id))
	}
	return p.Resize(width, height)
}

// dropExecs forgets a removed container's execs.
func (s *Service) dropExecs(l *live) {
	l.mu.Lock()
	ids := make([]string, 0, len(l.execs))
	for id := range l.execs {
		ids = append(ids, id)
	}
	l.mu.Unlock()
	s.liveMu.Lock()
	for _, id := range ids {
		delete(s.execIndex, id)
	}
	s.liveMu.Unlock()
}
