package registry

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wharf-project/wharf/internal/testregistry"
	"github.com/wharf-project/wharf/internal/testwait"
)

// TestSIGTERMDrainsUploads: SIGTERM stops the registry taking connections
// but lets a request in flight finish; the upload it fed goes on after a
// restart.
func TestSIGTERMDrainsUploads(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{Server: testregistry.Wharf})
	c := newClient(t, reg)
	b := randomBlob(t, 2<<20)
	loc := c.startUpload("drain/upload")
	id := loc[strings.LastIndex(loc, "/")+1:]
	if i := strings.IndexByte(id, '?'); i >= 0 {
		id = id[:i]
	}

	// A PATCH whose body arrives in two halves, the second only after the
	// SIGTERM.
	pr, pw := io.Pipe()
	req, err := http.NewRequest("PATCH", c.url(loc), pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(b.data))
	req.Header.Set("Content-Type", "application/octet-stream")
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		done <- result{resp, err}
	}()
	if _, err := pw.Write(b.data[:1<<20]); err != nil {
		t.Fatal(err)
	}
	// The handler is in flight once the process holds the upload's data
	// file open.
	testwait.For(t, "the upload's data file open in the registry", func() bool {
		return holdsOpen(reg.PID(), filepath.Join("_uploads", id, "data"))
	})

	if err := syscall.Kill(reg.PID(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "new connections refused", func() bool {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(reg.URL + "/v2/")
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	})
	if _, err := pw.Write(b.data[1<<20:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	res := <-done
	if res.err != nil {
		t.Fatalf("PATCH in flight at SIGTERM: %v", res.err)
	}
	res.resp.Body.Close()
	if res.resp.StatusCode != http.StatusAccepted || res.resp.Header.Get("Range") != fmt.Sprintf("0-%d", len(b.data)-1) {
		t.Fatalf("PATCH in flight at SIGTERM: %s, Range %q", res.resp.Status, res.resp.Header.Get("Range"))
	}
	select {
	case <-reg.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("registry still running 60s after SIGTERM with nothing in flight")
	}

	reg = reg.Restart(nil)
	c = newClient(t, reg)
	c.do("PUT", withQuery(loc, "digest", b.digest), nil).expect(t, 201)
	if got := c.do("GET", "/v2/drain/upload/blobs/"+b.digest, nil).expect(t, 200); !bytes.Equal(got.body, b.data) {
		t.Fatal("blob differs")
	}
}

// holdsOpen reports whether process pid has a file open whose path ends
// in suffix.
func holdsOpen(pid int, suffix string) bool {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasSuffix(target, suffix) {
			return true
		}
	}
	return false
}

// TestSIGHUPReloadsLogLevel: SIGHUP rereads config.yml and applies its
// log level; a config that no longer parses is refused and the registry
// keeps serving with what it has.
func TestSIGHUPReloadsLogLevel(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{Server: testregistry.Wharf, LogLevel: "error"})
	c := newClient(t, reg)
	c.do("GET", "/v2/before-reload/tags/list", nil).expect(t, 404)

	cfg := readFile(t, reg.ConfigFile())
	info := bytes.Replace(cfg, []byte("level: error"), []byte("level: info"), 1)
	if bytes.Equal(info, cfg) {
		t.Fatalf("config has no log level to change:\n%s", cfg)
	}
	writeFile(t, reg.ConfigFile(), info)
	if err := syscall.Kill(reg.PID(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// Requests are logged (at info) once the new level is in force.
	testwait.For(t, "an access log line after SIGHUP", func() bool {
		c.do("GET", "/v2/after-reload/tags/list", nil).expect(t, 404)
		return strings.Contains(reg.Log(), "after-reload")
	})
	if strings.Contains(reg.Log(), "before-reload") {
		t.Errorf("a request was logged at level error:\n%s", reg.Log())
	}

	writeFile(t, reg.ConfigFile(), append(info, []byte("no-such-section: {}\n")...))
	if err := syscall.Kill(reg.PID(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "the bad config refused in the log", func() bool {
		return strings.Contains(reg.Log(), "no-such-section")
	})
	c.do("GET", "/v2/", nil).expect(t, 200)
	select {
	case <-reg.Done():
		t.Fatal("registry exited on a bad reload")
	default:
	}
}
