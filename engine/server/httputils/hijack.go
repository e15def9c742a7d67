package httputils

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/pkg/stdcopy"
)

// Media types of attach, exec start and logs bodies.
const (
	MediaTypeRawStream         = "application/vnd.docker.raw-stream"
	MediaTypeMultiplexedStream = "application/vnd.docker.multiplexed-stream"
)

// StreamMediaType is the content type dockerd gives a stream: raw with a
// terminal; without one, multiplexed (8-byte frame headers), named so from
// API 1.42.
func StreamMediaType(tty bool, apiVersion string) string {
	if !tty && versions.GreaterThanOrEqualTo(apiVersion, "1.42") {
		return MediaTypeMultiplexedStream
	}
	return MediaTypeRawStream
}

// Hijacked is a connection taken over from the HTTP server for a
// bidirectional stream (attach, exec start).
type Hijacked struct {
	Conn net.Conn
	// Stdin reads what the client sends, including bytes the server had
	// already buffered.
	Stdin io.Reader
	// Stdout and Stderr write to the client: raw with a terminal, as
	// stdcopy frames without one.
	Stdout, Stderr io.Writer
}

// Close ends the stream.
func (h *Hijacked) Close() error { return h.Conn.Close() }

// Hijack takes the connection of r and writes dockerd's response head:
// "101 UPGRADED" when the client asked to upgrade (Upgrade: tcp), else
// "200 OK", with the content type of the stream and the headers the
// server's middleware set.
func Hijack(w http.ResponseWriter, r *http.Request, tty bool) (*Hijacked, error) {
	hdr := w.Header().Clone()
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	ct := StreamMediaType(tty, VersionFromContext(r.Context()))
	head := "HTTP/1.1 200 OK\r\nContent-Type: " + ct + "\r\n"
	if _, ok := r.Header["Upgrade"]; ok {
		head = "HTTP/1.1 101 UPGRADED\r\nContent-Type: " + ct + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
	}
	hdr.Del("Content-Type")
	hdr.Del("Content-Length")
	bw := bufio.NewWriter(conn)
	fmt.Fprint(bw, head)
	_ = hdr.Write(bw)
	fmt.Fprint(bw, "\r\n")
	if err := bw.Flush(); err != nil {
		conn.Close()
		return nil, err
	}
	h := &Hijacked{Conn: conn, Stdin: rw.Reader, Stdout: conn, Stderr: conn}
	if !tty {
		h.Stdout, h.Stderr = stdcopy.NewStdWriter(conn, stdcopy.Stdout), stdcopy.NewStdWriter(conn, stdcopy.Stderr)
	}
	return h, nil
}

// FlushWriter flushes after each write, for streamed responses (logs -f,
// stats).
type FlushWriter struct {
	W io.Writer
	F http.Flusher
}

func (f FlushWriter) Write(p []byte) (int, error) {
	n, err := f.W.Write(p)
	if f.F != nil {
		f.F.Flush()
	}
	return n, err
}
