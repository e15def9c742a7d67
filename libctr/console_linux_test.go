package libctr_test

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/configs"
)

// consoleSocket listens as runc's --console-socket caller does and returns
// the socket path and a function that waits for the pty master the init
// sends with SCM_RIGHTS.
func consoleSocket(t *testing.T) (string, func() *os.File) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	masterCh := make(chan *os.File, 1)
	errCh := make(chan error, 1)
	go func() {
		f, err := libctr.RecvConsole(ln)
		if err != nil {
			errCh <- err
			return
		}
		masterCh <- f
	}()
	return sock, func() *os.File {
		t.Helper()
		select {
		case master := <-masterCh:
			t.Cleanup(func() { master.Close() })
			return master
		case err := <-errCh:
			t.Fatalf("console socket: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("no pty master within 30s")
		}
		return nil
	}
}

// readPty reads the master until the program is done and the slave side is
// closed (EIO), after p has exited, and returns the exit code and output.
func readPty(t *testing.T, master *os.File, p *libctr.Process) (int, string) {
	t.Helper()
	var out bytes.Buffer
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 1024)
		for {
			n, err := master.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-readDone:
	case <-time.After(30 * time.Second):
		t.Fatal("pty not closed within 30s of exit")
	}
	return libctr.ExitCode(st), strings.ReplaceAll(out.String(), "\r", "")
}

// ttyScript prints the program's tty and checks that it is its controlling
// terminal (tty_nr 34816 is /dev/pts/0 in the container's devpts).
const ttyScript = "tty; test \"$(cut -d' ' -f7 /proc/$$/stat)\" = 34816 && echo ctty-ok"

// TestTerminalOverConsoleSocket follows runc's --console-socket protocol:
// the caller listens, the init sends the pty master with SCM_RIGHTS, and
// the program's stdio is the pty slave, its controlling terminal.
func TestTerminalOverConsoleSocket(t *testing.T) {
	c := testContainer(t, nil, "sh", "-c", ttyScript)
	sock, master := consoleSocket(t)
	proc := c.proc
	proc.Terminal = true
	p := &libctr.Process{Process: proc, ConsoleSocket: sock}
	if err := c.Run(p); err != nil {
		t.Fatal(err)
	}
	if code, got := readPty(t, master(), p); code != 0 || got != "/dev/pts/0\nctty-ok\n" {
		t.Fatalf("exit %d output %q", code, got)
	}
}

// TestExecTerminal: an exec'd process with a terminal gets a new pty of the
// container's devpts as its controlling terminal, whether the exec plan or
// the Go init sets it up.
func TestExecTerminal(t *testing.T) {
	c := testContainer(t, nil, "sleep", "1000")
	c.start(t)
	execPaths(t, func(t *testing.T) string {
		sock, master := consoleSocket(t)
		p := &libctr.Process{Process: configs.Process{Args: []string{"sh", "-c", ttyScript + "; exit 3"},
			Env: []string{"PATH=/bin"}, Cwd: "/", Terminal: true}, ConsoleSocket: sock}
		if err := c.Enter(p); err != nil {
			t.Fatal(err)
		}
		code, got := readPty(t, master(), p)
		if code != 3 || got != "/dev/pts/0\nctty-ok\n" {
			t.Errorf("exit %d output %q", code, got)
		}
		return got
	})
}
