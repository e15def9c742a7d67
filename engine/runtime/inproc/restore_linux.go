package inproc

import (
	"context"
	"errors"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/libctr"
)

// Restore adopts a container that a daemon before this one started and
// left running: its init runs under a monitor (libctr's Factory.Monitor),
// which kept the output pipes (or the pty master) and will have the exit
// code. The output from now on goes to io (whose shape, terminal or not,
// must be the one the container was created with; what the program wrote
// while no daemon ran comes first). A container whose program ended
// meanwhile is adopted too: its Wait returns the code the monitor wrote.
// NotFound when the container has no monitor to adopt it from (started
// by a daemon without one, or its monitor was killed).
func (r *Runtime) Restore(ctx context.Context, id string, io container.IO) (int, error) {
	c, err := r.factory.Load(id)
	if err != nil {
		return 0, classify(err)
	}
	a, err := c.Adopt()
	if err != nil {
		if errors.Is(err, libctr.ErrNotSupported) || errors.Is(err, libctr.ErrNotRunning) {
			return 0, errdefs.NotFound(err)
		}
		return 0, errdefs.System(err)
	}
	s, err := adoptStdio(io, a.Files())
	if err != nil {
		for _, f := range a.Files() {
			f.Close()
		}
		a.Close()
		return 0, errdefs.System(err)
	}
	p := &proc{pid: a.Pid(), io: s, c: c, done: make(chan struct{}), reap: func() (int, error) {
		defer a.Close()
		return a.Wait(context.Background())
	}}
	r.mu.Lock()
	r.ctrs[id] = &ctr{c: c, init: p}
	r.mu.Unlock()
	go p.wait()
	return p.pid, nil
}

var _ container.Restorer = (*Runtime)(nil)
