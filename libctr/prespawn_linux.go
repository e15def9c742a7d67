package libctr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
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

// prespawned is a taken prespawned process.
type prespawned struct {
	pid    int
	sock   *os.File
	reaped func() // reaps it, once; after start
}

// prespawnNS are the namespaces a prespawned init has made (PRESPAWN_NS in
// prespawn.c).
const prespawnNS = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWPID

// startPrespawned starts p's init (cmd as prepared, with child the files
// only it keeps) through the prespawned process, if there is one and the
// container can use it: wanted (an init plan, cgroup v1 tasks files sent
// with it, no monitor, no namespace joined by path), new namespaces flags
// as it made them, and the standard init path. It lets the process go
// otherwise, and reports whether the init was started.
//
// ordered runs once the process has its orders, while it forks the init:
// the caller writes the init's plan then, which the init finds waiting,
// instead of after the round trip for its pid.
func (c *Container) startPrespawned(p *Process, cmd *exec.Cmd, child []*os.File, flags uintptr, wanted bool, ordered func() error) (bool, error) {
	pid, sock, ok := nsenter.TakePrespawned()
	if !ok {
		return false, nil
	}
	s := &prespawned{pid: pid, sock: sock}
	if !wanted || flags != prespawnNS || c.factory.InitPath != "/proc/self/exe" {
		s.drop()
		return false, nil
	}
	initPid, used, err := s.start(cmd, ordered)
	if !used && err == nil {
		return false, nil // gone after all: started the usual way
	}
	for _, f := range child {
		f.Close()
	}
	if err != nil {
		return false, err
	}
	p.pid, p.adopted = initPid, s.reaped // its os.Process comes in Wait
	return true, nil
}

// drop lets it go unused: it reads end-of-file and exits, and is reaped
// in the background.
func (s *prespawned) drop() {
	s.sock.Close()
	go s.reap()
}

// start hands cmd's descriptors and environment to the prespawned process,
// runs ordered and returns the init's pid. ok is false when
// the process cannot be used after all (it failed to make the namespaces,
// or stdio are not files): it is gone then, and nothing was started.
func (s *prespawned) start(cmd *exec.Cmd, ordered func() error) (pid int, ok bool, err error) {
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
	if err := ordered(); err != nil {
		s.kill()
		return 0, true, err
	}
	// From here an end-of-file is a failure too: an init it forked may
	// have read the plan, so there is no starting over the usual way.
	var p32 int32
	if err := binary.Read(s.sock, binary.NativeEndian, &p32); err != nil || p32 <= 0 {
		s.kill()
		if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("the prespawned init exited")
		}
		return 0, true, fmt.Errorf("start container init: %w", err)
	}
	// It exits once it has told the pid, which makes the init our child:
	// it is reaped before the init is waited for (Process.Wait), long
	// gone by then as a rule. (A goroutine blocked in wait4 meanwhile
	// costs a thread, made on the way of the start.)
	s.reaped = sync.OnceFunc(s.reap)
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
