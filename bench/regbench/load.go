package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec is one request repeated by many keep-alive connections.
type loadSpec struct {
	Method string
	Path   string
	Header http.Header
	Conns  int
	Warmup time.Duration // run, uncounted, before the measurement
	Length time.Duration // how long to measure
	// Check validates each response (status, headers); bodies are read
	// whole and their length passed in.
	Check func(resp *http.Response, bodyLen int64) error
}

// runLoad drives spec against base and returns completed requests per
// second over the measured window.
//
// It speaks HTTP/1.1 on raw connections with the request pre-encoded, so a
// request costs the client one write and one buffered read; net/http's
// client costs several times that, and on a small machine the client's
// CPU comes out of the server's share and flattens every ratio.
func runLoad(ctx context.Context, base string, spec loadSpec) (float64, error) {
	u, err := url.Parse(base)
	if err != nil {
		return 0, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: regbench\r\n", spec.Method, spec.Path, u.Host)
	for k, vs := range spec.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	wire := []byte(b.String())

	var (
		count   atomic.Int64
		stop    atomic.Bool
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
	)
	fail := func(err error) { errOnce.Do(func() { first = err }); stop.Store(true) }
	for range spec.Conns {
		wg.Go(func() {
			if err := loadWorker(ctx, u.Host, wire, spec, &count, &stop); err != nil {
				fail(err)
			}
		})
	}
	sleep(ctx, spec.Warmup)
	c0, t0 := count.Load(), time.Now()
	sleep(ctx, spec.Length)
	c1, t1 := count.Load(), time.Now()
	stop.Store(true)
	wg.Wait()
	if first != nil {
		return 0, first
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return float64(c1-c0) / t1.Sub(t0).Seconds(), nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// loadWorker sends wire over one connection until stop, redialling if the
// server closes it.
func loadWorker(ctx context.Context, host string, wire []byte, spec loadSpec, count *atomic.Int64, stop *atomic.Bool) error {
	req := &http.Request{Method: spec.Method} // tells ReadResponse whether a body follows
	var d net.Dialer
	for !stop.Load() && ctx.Err() == nil {
		conn, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			return fmt.Errorf("dial %s: %w", host, err)
		}
		br := bufio.NewReaderSize(conn, 64<<10)
		for !stop.Load() {
			_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := conn.Write(wire); err != nil {
				conn.Close()
				return fmt.Errorf("%s %s: %w", spec.Method, spec.Path, err)
			}
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				conn.Close()
				return fmt.Errorf("%s %s: %w", spec.Method, spec.Path, err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				conn.Close()
				return fmt.Errorf("%s %s: body: %w", spec.Method, spec.Path, err)
			}
			if err := spec.Check(resp, n); err != nil {
				conn.Close()
				return fmt.Errorf("%s %s: %w", spec.Method, spec.Path, err)
			}
			count.Add(1)
			if resp.Close {
				break // the server asked to close; dial again
			}
		}
		conn.Close()
	}
	return nil
}
