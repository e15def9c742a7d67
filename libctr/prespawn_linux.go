package libctr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/nsenter"
)

// Prespawning: `wharf runtime run|create` forks its container's init in the
// nsenter constructor, before the command's Go runtime starts, and that
// process makes the usual namespaces right away (libctr/nsenter/
// prespawn.c): they cost ~0.8 ms here (the network namespace most), which
// then overlaps the Go start and the reading of the bundle instead of
// following them. Start uses it when the container is what it guessed and
// needs nothing else of a started command: new mount, uts, ipc, network
// and pid namespaces and no others to join, an init plan, cgroup v1 tasks
// files sent with the plan, no monitor, stdio that are files. Otherwise
// the process is let go and the init is started as always.
//
// The prespawned process gets the init's descriptors (stdio, extra files,
// the init pipe, the exec fifo, a console socket), each with the number it
// would have had, and its _LIBCTR_ environment, in one message; it forks
// the init (the new pid namespace's first process), reports its pid and
// exits. This process is a child subreaper by then, so the init becomes
// its child, to be waited for as any.

// prespawnMaxFds is PRESPAWN_MAX_FDS in prespawn.c: an init with more
// descriptors (a large --preserve-fds) is started the usual way.
const prespawnMaxFds = 64

// warmPidfd makes, in the background, the check the Go runtime makes the
// first time this process looks up or starts a process (whether pidfds
// work: it forks and waits for a throwaway child, 0.1-0.4 ms here), so
// that os.FindProcess of the prespawned init does not wait for it.
func warmPidfd() {
	go func() {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			_ = p.Release()
		}
	}()
}

// prespawned is a taken prespawned process.
type prespawned struct {
	pid    int
	sock   *os.File
	reaped chan struct{} // closed once it is reaped, after start
}

// takePrespawned returns the prespawned process if it made exactly the
// namespaces flags asks for, and lets it go otherwise (nil).
func takePrespawned(flags uintptr) *prespawned {
	pid, sock, ns, ok := nsenter.TakePrespawned()
	if !ok {
		return nil
	}
	if ns != flags {
		nsenter.DropPrespawned(pid, sock)
		return nil
	}
	warmPidfd()
	return &prespawned{pid: pid, sock: sock}
}

// drop lets it go unused.
func (s *prespawned) drop() {
	if s != nil {
		nsenter.DropPrespawned(s.pid, s.sock)
	}
}

// start hands cmd's descriptors and environment to the prespawned process
// and returns the init's pid. ok is false when the process cannot be used
// after all (it failed to make the namespaces, or stdio are not files): it
// is gone then, and nothing was started.
func (s *prespawned) start(cmd *exec.Cmd) (pid int, ok bool, err error) {
	var files []*os.File
	for _, f := range []any{cmd.Stdin, cmd.Stdout, cmd.Stderr} {
		file, isFile := f.(*os.File)
		if !isFile || file == nil {
			s.drop()
			return 0, false, nil
		}
		files = append(files, file)
	}
	files = append(files, cmd.ExtraFiles...)
	if len(files) > prespawnMaxFds {
		s.drop()
		return 0, false, nil
	}
	// "R": the namespaces are there (usually long since).
	ready := make([]byte, 1)
	if n, _ := s.sock.Read(ready); n != 1 || ready[0] != 'R' {
		s.drop()
		return 0, false, nil
	}
	// The init is orphaned by design: it must come to us.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		s.drop()
		return 0, false, nil
	}
	msg := binary.NativeEndian.AppendUint32(nil, uint32(len(files)))
	fds := make([]int, len(files))
	for i, f := range files {
		msg = binary.NativeEndian.AppendUint32(msg, uint32(i))
		fds[i] = int(f.Fd())
	}
	for _, kv := range cmd.Env {
		if strings.HasPrefix(kv, "_LIBCTR_") {
			msg = append(append(msg, kv...), 0)
		}
	}
	defer s.sock.Close()
	if err := unix.Sendmsg(int(s.sock.Fd()), msg, unix.UnixRights(fds...), nil, unix.MSG_NOSIGNAL); err != nil {
		s.kill()
		return 0, true, fmt.Errorf("start container init: %w", err)
	}
	var p32 int32
	if err := binary.Read(s.sock, binary.NativeEndian, &p32); errors.Is(err, io.EOF) {
		// It took the message but gave up before forking the init
		// (nothing was started): start it the usual way.
		s.reap()
		return 0, false, nil
	} else if err != nil || p32 <= 0 {
		s.kill()
		if err == nil || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("the prespawned init exited")
		}
		return 0, true, fmt.Errorf("start container init: %w", err)
	}
	// It exits once it has told the pid, which makes the init our child;
	// reaped meanwhile (its exit takes a while: it was a copy of us).
	s.reaped = make(chan struct{})
	go func() {
		s.reap()
		close(s.reaped)
	}()
	return int(p32), true, nil
}

func (s *prespawned) kill() {
	_ = syscall.Kill(s.pid, syscall.SIGKILL)
	s.reap()
}

func (s *prespawned) reap() {
	var ws syscall.WaitStatus
	for {
		if _, err := syscall.Wait4(s.pid, &ws, 0, nil); !errors.Is(err, syscall.EINTR) {
			return
		}
	}
}
