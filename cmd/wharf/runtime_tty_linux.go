package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr"
)

// consoleProxy is what `run` does for a terminal: true container when no
// --console-socket is given, as runc does: listen on a socket of its own,
// receive the pty master from the init, and wire it to this process's
// stdio (stdin in raw mode when it is a terminal, window size passed on).
type consoleProxy struct {
	dir     string
	ln      *net.UnixListener
	master  chan *os.File
	restore func()
}

func newConsoleProxy() (*consoleProxy, error) {
	dir, err := os.MkdirTemp("", "wharf-console-")
	if err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "console.sock"), Net: "unix"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cp := &consoleProxy{dir: dir, ln: ln, master: make(chan *os.File, 1), restore: func() {}}
	go cp.accept()
	return cp, nil
}

func (cp *consoleProxy) path() string { return cp.ln.Addr().String() }

func (cp *consoleProxy) accept() {
	defer close(cp.master)
	if f, err := libctr.RecvConsole(cp.ln); err == nil {
		cp.master <- f
	}
}

// attach copies between the pty and stdio until the program's side closes.
// It returns a channel closed when the output has been drained.
func (cp *consoleProxy) attach() (<-chan struct{}, error) {
	master, ok := <-cp.master
	if !ok {
		return nil, fmt.Errorf("no pty master arrived on the console socket")
	}
	in := int(os.Stdin.Fd())
	if st, err := unix.IoctlGetTermios(in, unix.TCGETS); err == nil {
		raw := *st
		raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		raw.Oflag &^= unix.OPOST
		raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		raw.Cflag &^= unix.CSIZE | unix.PARENB
		raw.Cflag |= unix.CS8
		if err := unix.IoctlSetTermios(in, unix.TCSETS, &raw); err == nil {
			cp.restore = func() { _ = unix.IoctlSetTermios(in, unix.TCSETS, st) }
		}
		resize := func() {
			if ws, err := unix.IoctlGetWinsize(in, unix.TIOCGWINSZ); err == nil {
				_ = unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
			}
		}
		resize()
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		go func() {
			for range winch {
				resize()
			}
		}()
	}
	go func() { _, _ = io.Copy(master, os.Stdin) }()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(os.Stdout, master) // ends with EIO when the program's side closes
	}()
	return done, nil
}

func (cp *consoleProxy) close() {
	cp.restore()
	cp.ln.Close()
	os.RemoveAll(cp.dir)
}
