package runtime

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/libctr"
)

// TestConsoleSocket drives runc's --console-socket protocol the way
// containerd does: listen, create with terminal: true, receive the pty
// master, start, read the program's output from the master.
func TestConsoleSocket(t *testing.T) {
	r := newRT(t)
	bundle, id := r.bundle(func(s *specs.Spec) { s.Process.Terminal = true }, "sh", "-c", "tty; echo hello")
	sock := filepath.Join(t.TempDir(), "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan *os.File, 1)
	go func() {
		if f, err := libctr.RecvConsole(ln); err == nil {
			got <- f
		}
	}()
	if _, errOut, code := r.run("", "create", "--bundle", bundle, id); code == 0 || !strings.Contains(errOut, "console-socket") {
		t.Fatalf("terminal without --console-socket: exit %d %q", code, errOut)
	}
	r.ok("create", "--bundle", bundle, "--console-socket", sock, id)
	var master *os.File
	select {
	case master = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("no pty master within 30s")
	}
	defer master.Close()
	r.ok("start", id)
	var out bytes.Buffer
	buf := make([]byte, 256)
	for {
		n, err := master.Read(buf) // EIO once the program has exited and its output is drained
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if text := strings.ReplaceAll(out.String(), "\r", ""); text != "/dev/pts/0\nhello\n" {
		t.Errorf("pty output %q", text)
	}
	r.waitStatus(id, "stopped")
	r.ok("delete", id)
}

// TestRunTerminalWithoutConsoleSocket: like runc, `run` of a terminal
// container takes the pty itself and copies it to its own stdout.
func TestRunTerminalWithoutConsoleSocket(t *testing.T) {
	r := newRT(t)
	bundle, id := r.bundle(func(s *specs.Spec) { s.Process.Terminal = true }, "sh", "-c", "tty; exit 3")
	out, errOut, code := r.run("", "run", "--bundle", bundle, id)
	if code != 3 || strings.ReplaceAll(out, "\r", "") != "/dev/pts/0\n" {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errOut)
	}
	r.assertGone(id)
}
