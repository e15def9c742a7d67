package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// pull GETs path (a blob) and throws the body away, returning the byte
// count.
//
// The body goes from the socket to /dev/null with splice(2) (what
// (*os.File).ReadFrom does for a TCP source on Linux), so the client never
// copies it into user space. Reading it into a buffer costs the client
// about one core at loopback speeds, which on a small machine is the
// limit: every server would then pull at the client's speed and a server
// that sends with sendfile(2) could not show it.
func (r *registry) pull(ctx context.Context, path string) (int64, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.base.Host)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", path, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Minute))
	}
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: regbench\r\n\r\n", path, r.base.Host); err != nil {
		return 0, fmt.Errorf("GET %s: %w", path, err)
	}
	br := bufio.NewReaderSize(conn, 4096)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	if resp.ContentLength < 0 || len(resp.TransferEncoding) > 0 {
		return 0, fmt.Errorf("GET %s: no Content-Length (a blob must have one)", path)
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer devNull.Close()
	// Part of the body may already sit in br's buffer; the rest is spliced.
	n, err := br.Discard(min(br.Buffered(), int(resp.ContentLength)))
	if err != nil {
		return int64(n), err
	}
	m, err := devNull.ReadFrom(io.LimitReader(conn, resp.ContentLength-int64(n)))
	total := int64(n) + m
	if err != nil {
		return total, fmt.Errorf("GET %s: %w", path, err)
	}
	if total != resp.ContentLength {
		return total, fmt.Errorf("GET %s: read %d of %d bytes", path, total, resp.ContentLength)
	}
	return total, nil
}
