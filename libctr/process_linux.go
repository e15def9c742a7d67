package libctr

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/wharf-project/wharf/libctr/configs"
	"golang.org/x/sys/unix"
)

// Process is a program run in a container: the init given to Start, or
// one added with Enter. Stdio is handed to the program as is when they are
// *os.File, copied through pipes otherwise.
type Process struct {
	configs.Process
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// ExtraFiles become fds 3, 4, ... of the program (runc's --preserve-fds).
	ExtraFiles []*os.File
	// ConsoleSocket is the path of a unix socket that gets the pty master
	// when Terminal is set (runc's --console-socket protocol).
	ConsoleSocket string

	cmd      *exec.Cmd
	proc     *os.Process // a restored init: a child of ours, but not through cmd
	adopted  func()      // a prespawned init (a child of ours once this reaps its parent), looked up in Wait
	pid      int
	detached bool     // the pid is not our child (joined a pid namespace by path)
	monitor  *os.File // the socket to the init's monitor, when it has one

	waitOnce sync.Once
	state    *os.ProcessState
	waitErr  error

	sigMu  sync.Mutex // held by Signal, and by Wait while it reaps a restored or prespawned init
	reaped bool       // the program is gone: a signal to pid could reach a process that reused it
}

// Pid is the program's pid in the host's pid namespace.
func (p *Process) Pid() int { return p.pid }

// Signal sends sig to the program; os.ErrProcessDone once Wait has
// returned (a signal relayed as it exits must not reach a process that
// reused its pid). A program that is cmd's own process is signalled
// through it (a pidfd, which cannot reach another process); a restored or
// prespawned init is reaped by Wait under sigMu once it has exited. A
// program reaped by another process (an exec's helper, a monitor) leaves
// a window between that and Wait's return, which kill(2) cannot close.
func (p *Process) Signal(sig os.Signal) error {
	if p.pid == 0 {
		return errors.New("process not started")
	}
	if p.cmd != nil && p.cmd.Process != nil && p.cmd.Process.Pid == p.pid {
		return p.cmd.Process.Signal(sig)
	}
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	if p.reaped {
		return os.ErrProcessDone
	}
	return syscall.Kill(p.pid, sig.(syscall.Signal))
}

// setReaped records that the program is gone: Wait's last step.
func (p *Process) setReaped() {
	p.sigMu.Lock()
	p.reaped = true
	p.sigMu.Unlock()
}

// Wait waits for the program to exit. It may be called from several
// goroutines; all get the same answer. It only works in the process that
// started the program.
func (p *Process) Wait() (*os.ProcessState, error) {
	p.waitOnce.Do(func() {
		proc := p.proc
		if p.adopted != nil {
			p.adopted()
			// Only now: the first lookup of a process makes the Go
			// runtime check whether pidfds work, which forks and
			// waits for a child (0.1-0.4 ms here). A `create`, which
			// never waits, is spared it; a `run` makes it while the
			// program runs.
			if proc, p.waitErr = os.FindProcess(p.pid); p.waitErr != nil {
				return
			}
		}
		if proc != nil {
			if awaitExit(proc.Pid) {
				p.sigMu.Lock() // no Signal between the reaping and its record
				defer p.sigMu.Unlock()
				p.state, p.waitErr = proc.Wait()
				p.reaped = true
			} else {
				p.state, p.waitErr = proc.Wait()
				p.setReaped()
			}
			return
		}
		if p.cmd == nil {
			p.waitErr = errors.New("process not started")
			return
		}
		if p.cmd.Process != nil {
			awaitExit(p.cmd.Process.Pid)
		}
		defer p.setReaped()
		p.waitErr = p.cmd.Wait()
		p.state = p.cmd.ProcessState
		if p.monitor != nil {
			p.monitor.Close()
		}
		if p.detached {
			for alive(p.pid, 0) {
				time.Sleep(50 * time.Millisecond)
			}
		}
		var ee *exec.ExitError
		if errors.As(p.waitErr, &ee) {
			p.waitErr = nil // a non-zero exit is a result, not a failure
		}
	})
	return p.state, p.waitErr
}

// awaitExit waits in the runtime's poller until pid, a child of ours not
// yet waited for, has exited, so that the wait that follows returns at
// once. A goroutine blocked in waitid holds its P in a system call, and
// the runtime's sysmon thread then wakes every 20-90 us to look at it
// for as long as the program runs: in `run`, on the CPU the container's
// program runs on as often as not. Parked in the poller, the process has
// no P busy and sysmon sleeps. It reports whether it did wait: without
// PIDFD_NONBLOCK (Linux 5.10) it returns false at once.
func awaitExit(pid int) bool {
	fd, err := unix.PidfdOpen(pid, unix.O_NONBLOCK) // PIDFD_NONBLOCK
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	exited := false
	err = rc.Read(func(fd uintptr) bool {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 0)
		exited = n > 0
		return n != 0 || err != nil && err != unix.EINTR
	})
	return err == nil && exited
}

// ExitCode is the shell's view of a finished process: the exit status, or
// 128+signal when it was killed.
func ExitCode(st *os.ProcessState) int {
	if st == nil {
		return -1
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}
