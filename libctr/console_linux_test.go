package libctr_test

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr"
)

// TestTerminalOverConsoleSocket follows runc's --console-socket protocol:
// the caller listens, the init sends the pty master with SCM_RIGHTS, and
// the program's stdio is the pty slave, its controlling terminal.
func TestTerminalOverConsoleSocket(t *testing.T) {
	c := testContainer(t, nil, "sh", "-c", "tty; test \"$(cut -d' ' -f7 /proc/$$/stat)\" = 34816 && echo ctty-ok")
	sock := filepath.Join(t.TempDir(), "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	masterCh := make(chan *os.File, 1)
	errCh := make(chan error, 1)
	go func() {
		conn, err := ln.AcceptUnix()
		if err != nil {
			errCh <- err
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 64), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			errCh <- err
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			errCh <- err
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			errCh <- err
			return
		}
		masterCh <- os.NewFile(uintptr(fds[0]), "pty-master")
	}()
	proc := c.proc
	proc.Terminal = true
	p := &libctr.Process{Process: proc, ConsoleSocket: sock}
	if err := c.Run(p); err != nil {
		t.Fatal(err)
	}
	var master *os.File
	select {
	case master = <-masterCh:
	case err := <-errCh:
		t.Fatalf("console socket: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no pty master within 30s")
	}
	defer master.Close()
	// Read until the program is done and the slave side is closed (EIO).
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
	got := strings.ReplaceAll(out.String(), "\r", "")
	if code := libctr.ExitCode(st); code != 0 || got != "/dev/pts/0\nctty-ok\n" {
		t.Fatalf("exit %d output %q", code, got)
	}
}
