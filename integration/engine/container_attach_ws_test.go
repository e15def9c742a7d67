package engine

import (
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// wsAttach opens GET /containers/{name}/attach/ws?query over the daemon's
// socket.
func (d *daemonProc) wsAttach(t *testing.T, name, query string) (*websocket.Conn, error) {
	t.Helper()
	cfg, err := websocket.NewConfig("ws://wharf/v1.50/containers/"+name+"/attach/ws?"+query, "http://wharf")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("unix", d.Sock)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := websocket.NewClient(cfg, conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	t.Cleanup(func() { ws.Close() })
	_ = ws.SetDeadline(time.Now().Add(30 * time.Second))
	return ws, nil
}

// readUntil reads frames until what was read contains want.
func readUntil(t *testing.T, ws *websocket.Conn, want string) string {
	t.Helper()
	var got strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(got.String(), want) {
		n, err := ws.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("read %q so far, want %q: %v", got.String(), want, err)
		}
	}
	return got.String()
}

// attach/ws, which portainer and other web UIs use: stdin in, raw output
// out (stdout and stderr alike), the log replayed with logs=1.
func TestContainerAttachWebsocket(t *testing.T) {
	d := runDaemon(t)
	d.docker(t, runArgs("-d", "-i", "--name", "wsc", "busybox", "sh", "-c",
		`echo before; echo to-stderr >&2; while read l; do echo "got $l"; done`)...)
	// Which of stdout and stderr reaches the log first is up to the
	// scheduler: the tests below do not depend on it.
	d.removeOnCleanup(t, "wsc")
	d.waitLogs(t, "wsc", "to-stderr")

	t.Run("stdin and live output", func(t *testing.T) {
		ws, err := d.wsAttach(t, "wsc", "stream=1&stdin=1&stdout=1&stderr=1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ws.Write([]byte("hello\n")); err != nil {
			t.Fatal(err)
		}
		readUntil(t, ws, "got hello\n")
	})
	t.Run("logs replayed, raw", func(t *testing.T) {
		ws, err := d.wsAttach(t, "wsc", "logs=1&stdout=1&stderr=1")
		if err != nil {
			t.Fatal(err)
		}
		out := readUntil(t, ws, "got hello\n") // the last line logged, after both
		if !strings.Contains(out, "before\n") || !strings.Contains(out, "to-stderr\n") || strings.Contains(out, "\x01\x00\x00") || strings.Contains(out, "\x02\x00\x00") {
			t.Fatalf("replayed %q", out)
		}
	})
	t.Run("unknown container", func(t *testing.T) {
		if _, err := d.wsAttach(t, "nosuchcontainer", "stream=1&stdout=1"); err == nil || !strings.Contains(err.Error(), "bad status") {
			t.Fatalf("handshake with an unknown container: %v", err)
		}
	})
}
