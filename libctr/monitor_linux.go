package libctr

// The monitor: with Factory.Monitor, a container's init is started under a
// small process of its own (the nsenter constructor's monitor.c, no Go
// runtime), which is the init's parent instead of the caller:
//
//	caller ── monitor ── init
//
// The monitor collects the init's exit status and writes it to
// <state dir>/exit, and keeps open the descriptors the caller hands it
// with Hold. So the container keeps running when the caller (a daemon)
// dies, its output pipes neither break nor lose what it writes meanwhile,
// and a later process adopts it: Adopt takes the held descriptors back
// with pidfd_getfd(2) and waits for the exit through a pidfd.
//
// The caller that started the init still waits for it with Process.Wait
// (the monitor is its child and exits with the init's code).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// holdBase is the monitor's first hold slot (HOLD_BASE in monitor.c).
const holdBase = 100

// monitorFiles are what Start passes to a monitor: its end of the socket
// and the exit file (child), and our end of the socket (parent).
type monitorFiles struct {
	parent, child, exit *os.File
}

func (c *Container) newMonitorFiles() (*monitorFiles, error) {
	exit, err := os.OpenFile(filepath.Join(c.dir, exitName), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		exit.Close()
		return nil, err
	}
	return &monitorFiles{
		parent: os.NewFile(uintptr(fds[0]), "monitor-parent"),
		child:  os.NewFile(uintptr(fds[1]), "monitor-child"),
		exit:   exit,
	}, nil
}

// closeChild closes the monitor's ends in this process (once it has
// them, or on failure); the parent end becomes the Process's.
func (m *monitorFiles) closeChild() {
	m.child.Close()
	m.exit.Close()
}

// Hold gives files to the init's monitor to keep open until the init
// exits; a process that adopts the container gets them back (Adopted.Files)
// in the order they were given. It fails for a process without a monitor.
func (p *Process) Hold(files ...*os.File) error {
	if p.monitor == nil {
		return errors.New("the process has no monitor")
	}
	if len(files) == 0 {
		return nil
	}
	// The descriptors are read through SyscallConn: Fd would put them in
	// blocking mode, where a Close no longer ends a read under way.
	fds := make([]int, len(files))
	for i, f := range files {
		rc, err := f.SyscallConn()
		if err != nil {
			return err
		}
		if err := rc.Control(func(fd uintptr) { fds[i] = int(fd) }); err != nil {
			return err
		}
	}
	rc, err := p.monitor.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = unix.Sendmsg(int(fd), []byte{'H'}, unix.UnixRights(fds...), nil, 0)
	})
	if err != nil {
		return err
	}
	return serr
}

// Release closes this process's connection to the init's monitor, as
// this process's exit would: the monitor then keeps what it holds after
// the init exits, until a process that adopts the container lets it go.
func (p *Process) Release() {
	if p.monitor != nil {
		p.monitor.Close()
	}
}

// Adopted is a container's init found running under its monitor by a
// process that did not start it.
type Adopted struct {
	c       *Container
	monitor int // pidfd of the monitor; -1 once it is gone
	init    int // pidfd of the init while it runs, or -1
	files   []*os.File
	code    int // the recorded exit, when the monitor was gone already
}

// Adopt takes over a container whose init has a monitor: a running (or
// paused) one, or one whose init exited after its starter was gone (the
// monitor recorded the code; Wait returns it at once). ErrNotSupported
// when the container was started without a monitor, ErrNotRunning when
// the monitor is gone without a record (it was killed).
func (c *Container) Adopt() (*Adopted, error) {
	if c.state.MonitorPid == 0 {
		return nil, fmt.Errorf("container %s was started without a monitor: %w", c.id, ErrNotSupported)
	}
	fd, err := unix.PidfdOpen(c.state.MonitorPid, 0)
	if err != nil || !alive(c.state.MonitorPid, c.state.MonitorStartTime) {
		if err == nil {
			unix.Close(fd)
		}
		if code, ok := c.recordedExit(); ok {
			return &Adopted{c: c, monitor: -1, init: -1, code: code}, nil
		}
		return nil, fmt.Errorf("container %s: its monitor is gone: %w", c.id, ErrNotRunning)
	}
	a := &Adopted{c: c, monitor: fd, init: -1}
	if ifd, err := unix.PidfdOpen(c.state.InitPid, 0); err == nil {
		if alive(c.state.InitPid, c.state.InitStartTime) {
			a.init = ifd
		} else {
			unix.Close(ifd) // gone: the code is (or is about to be) recorded
		}
	}
	for slot := holdBase; ; slot++ {
		nfd, err := unix.PidfdGetfd(fd, slot, 0)
		if errors.Is(err, unix.EBADF) {
			break
		}
		if err != nil {
			a.Close()
			for _, f := range a.files {
				f.Close()
			}
			return nil, fmt.Errorf("container %s: take descriptor %d from its monitor: %w", c.id, slot, err)
		}
		a.files = append(a.files, os.NewFile(uintptr(nfd), "held-"+strconv.Itoa(slot)))
	}
	return a, nil
}

// Adoptable reports whether Adopt would take the container over.
func (c *Container) Adoptable() bool {
	if c.state.MonitorPid == 0 {
		return false
	}
	if alive(c.state.MonitorPid, c.state.MonitorStartTime) {
		return true
	}
	_, ok := c.recordedExit()
	return ok
}

// recordedExit is the exit code the monitor wrote, if it did.
func (c *Container) recordedExit() (int, bool) {
	b, err := os.ReadFile(filepath.Join(c.dir, exitName))
	if err != nil {
		return 0, false
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return code, err == nil
}

// Pid is the init's pid.
func (a *Adopted) Pid() int { return a.c.state.InitPid }

// Files are the descriptors the monitor holds, in the order Hold got
// them; they are the caller's to close.
func (a *Adopted) Files() []*os.File { return a.files }

// Wait waits until the init has exited and returns its code (128+signal
// when it was killed), as its monitor recorded it: 255 when it recorded
// none (the monitor itself was killed). The monitor is then let go.
func (a *Adopted) Wait(ctx context.Context) (int, error) {
	if a.monitor < 0 {
		return a.code, nil
	}
	if a.init >= 0 {
		waitPidfd(ctx, a.init)
	}
	// The monitor writes the code right after it reaps the init.
	pfd := []unix.PollFd{{Fd: int32(a.monitor), Events: unix.POLLIN}}
	for ctx.Err() == nil {
		if code, ok := a.c.recordedExit(); ok {
			_ = unix.PidfdSendSignal(a.monitor, unix.SIGTERM, nil, 0)
			return code, nil
		}
		if n, _ := unix.Poll(pfd, 5); n > 0 {
			if code, ok := a.c.recordedExit(); ok {
				return code, nil
			}
			return 255, nil
		}
	}
	return 0, ctx.Err()
}

// Close releases the pidfds (not the Files).
func (a *Adopted) Close() {
	for _, fd := range []*int{&a.monitor, &a.init} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

// releaseMonitor lets a monitor that waits to be adopted go, once the
// init is gone (Destroy).
func (c *Container) releaseMonitor() {
	if c.state.MonitorPid != 0 && alive(c.state.MonitorPid, c.state.MonitorStartTime) {
		_ = unix.Kill(c.state.MonitorPid, unix.SIGTERM)
	}
}
