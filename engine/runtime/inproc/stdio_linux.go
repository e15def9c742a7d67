package inproc

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/libctr"
)

// drainBound is how long an exit waits for the program's output to be
// copied once the program is gone. Output already written is read long
// before; the bound only matters when a process that outlived the program
// (a background child in the host's pid namespace) holds a pipe open.
const drainBound = 5 * time.Second

// stdio is the adapter's side of one process's standard streams: pipes
// (or a pty master) whose far ends the program gets, and the goroutines
// that copy between them and the caller's container.IO.
type stdio struct {
	want container.IO

	// Pipes: the child's ends are handed to libctr and closed here once
	// the program started; ours are read (out, err) or written (in).
	childIn, childOut, childErr *os.File
	in, out, err                *os.File

	// With a terminal: the listener libctr dials as the console socket,
	// and the pty master it sends back.
	ln       *net.UnixListener
	master   chan masterResult
	console  *os.File
	consMu   sync.Mutex
	copies   sync.WaitGroup // output copies (stdin is not waited for)
	closeOne sync.Once
}

type masterResult struct {
	f   *os.File
	err error
}

// newStdio makes the pipes or the console socket for a process, and points
// p's streams at them.
func newStdio(want container.IO, p *libctr.Process) (_ *stdio, retErr error) {
	s := &stdio{want: want}
	defer func() {
		if retErr != nil {
			s.close()
		}
	}()
	if p.Terminal {
		name := make([]byte, 12)
		_, _ = rand.Read(name)
		// An abstract socket: nothing on disk to clean up, no path length limit.
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: "@wharf-console-" + hex.EncodeToString(name), Net: "unix"})
		if err != nil {
			return nil, fmt.Errorf("console socket: %w", err)
		}
		s.ln, s.master = ln, make(chan masterResult, 1)
		go func() { f, err := receiveMaster(ln); s.master <- masterResult{f, err} }()
		p.ConsoleSocket = ln.Addr().String()
		return s, nil
	}
	if want.Stdin != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		s.childIn, s.in = r, w
		p.Stdin = r
	}
	for _, pair := range []struct {
		dst   io.Writer
		child **os.File
		ours  **os.File
		set   *io.Writer
	}{{want.Stdout, &s.childOut, &s.out, &p.Stdout}, {want.Stderr, &s.childErr, &s.err, &p.Stderr}} {
		if pair.dst == nil {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		*pair.child, *pair.ours = w, r
		*pair.set = w
	}
	return s, nil
}

// receiveMaster takes the pty master libctr sends on the console socket
// (libctr.RecvConsole), non-blocking, so the runtime poller serves it and
// Close ends a read.
func receiveMaster(ln *net.UnixListener) (*os.File, error) {
	f, err := libctr.RecvConsole(ln)
	if err != nil {
		return nil, err
	}
	return pollableMaster(f)
}

// pollableMaster is a non-blocking copy of a pty master f (which it
// closes), so that the runtime poller serves it and Close ends a read.
func pollableMaster(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	f.Close()
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "pty-master"), nil
}

// useConsole makes f the process's terminal: its output goes to stdout,
// stdin goes to it.
func (s *stdio) useConsole(f *os.File) {
	s.consMu.Lock()
	s.console = f
	s.consMu.Unlock()
	if s.want.Stdout != nil {
		s.copy(s.want.Stdout, f)
	}
	if s.want.Stdin != nil {
		go func() { _, _ = io.Copy(f, s.want.Stdin) }()
	}
}

// started runs once libctr started the process: the parent's copies of
// the child's ends are closed, the pty master is received, and the copies
// begin.
func (s *stdio) started() error {
	for _, f := range []*os.File{s.childIn, s.childOut, s.childErr} {
		if f != nil {
			f.Close()
		}
	}
	if s.ln != nil {
		_ = s.ln.SetDeadline(time.Now().Add(30 * time.Second))
		r := <-s.master
		s.ln.Close()
		s.ln = nil
		if r.err != nil {
			return r.err
		}
		s.useConsole(r.f)
		return nil
	}
	if s.out != nil {
		s.copy(s.want.Stdout, s.out)
	}
	if s.err != nil {
		s.copy(s.want.Stderr, s.err)
	}
	if s.in != nil {
		go func() {
			_, _ = io.Copy(s.in, s.want.Stdin)
			s.in.Close() // the program reads EOF: the stdin half-close
		}()
	}
	return nil
}

func (s *stdio) copy(dst io.Writer, src *os.File) {
	s.copies.Add(1)
	go func() {
		defer s.copies.Done()
		// Ends at EOF, or EIO from a pty master once the last slave is
		// closed, or when drain closes src.
		if _, ok := dst.(io.ReaderFrom); ok {
			_, _ = io.Copy(dst, src) // a connection: splice(2) may serve
			return
		}
		buf := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(buf)
		// (src is wrapped so that the pooled buffer is used, not a new
		// one from File.WriteTo.)
		_, _ = io.CopyBuffer(dst, struct{ io.Reader }{src}, *buf)
	}()
}

// copyBufs are the copies' buffers: an exec's two streams would take
// 64 KiB of fresh memory otherwise.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// drain waits for the output copies to reach the end of their streams,
// at most drainBound, then closes everything.
func (s *stdio) drain() {
	done := make(chan struct{})
	go func() { s.copies.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drainBound):
	}
	s.close()
	<-done
}

// close releases every descriptor; copies blocked on them end.
func (s *stdio) close() {
	s.closeOne.Do(func() {
		if s.ln != nil {
			s.ln.Close()
		}
		s.consMu.Lock()
		cons := s.console
		s.consMu.Unlock()
		for _, f := range []*os.File{s.childIn, s.childOut, s.childErr, s.in, s.out, s.err, cons} {
			if f != nil {
				f.Close()
			}
		}
	})
}

// resize sets the pty's window size.
func (s *stdio) resize(width, height uint) error {
	s.consMu.Lock()
	defer s.consMu.Unlock()
	if s.console == nil {
		return errors.New("the process has no terminal")
	}
	conn, err := s.console.SyscallConn()
	if err != nil {
		return err
	}
	var ioctlErr error
	err = conn.Control(func(fd uintptr) {
		ioctlErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(height), Col: uint16(width)})
	})
	if err != nil {
		return err
	}
	return ioctlErr
}

// outputs are our ends of the program's output, for its monitor to hold:
// the pty master, or the stdout and stderr pipes (those there are, in that
// order). Stdin is not held: the program must see its end when we close it.
func (s *stdio) outputs() []*os.File {
	s.consMu.Lock()
	defer s.consMu.Unlock()
	if s.console != nil {
		return []*os.File{s.console}
	}
	var fs []*os.File
	for _, f := range []*os.File{s.out, s.err} {
		if f != nil {
			fs = append(fs, f)
		}
	}
	return fs
}

// adoptStdio connects the output a monitor held (outputs' order) to want
// and starts copying. A held pty master also takes want.Stdin; a pipe's
// stdin ended with the daemon that made it. Outputs the monitor does not
// hold (it had none handed over, or it was gone already) stay
// unconnected.
func adoptStdio(want container.IO, held []*os.File) (*stdio, error) {
	s := &stdio{want: want}
	if want.Terminal {
		for _, f := range held[min(1, len(held)):] {
			f.Close()
		}
		if len(held) == 0 {
			return s, nil
		}
		f, err := pollableMaster(held[0])
		if err != nil {
			return nil, err
		}
		s.useConsole(f)
		return s, nil
	}
	for _, w := range []struct {
		dst  io.Writer
		ours **os.File
	}{{want.Stdout, &s.out}, {want.Stderr, &s.err}} {
		if w.dst == nil || len(held) == 0 {
			continue
		}
		*w.ours, held = held[0], held[1:]
		s.copy(w.dst, *w.ours)
	}
	for _, f := range held {
		f.Close()
	}
	return s, nil
}
