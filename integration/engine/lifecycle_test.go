package engine

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The daemon command takes dockerd's flag names and documents its defaults.
func TestDaemonFlags(t *testing.T) {
	out, err := runWharf(t, "daemon", "--help")
	if err != nil {
		t.Fatalf("wharf daemon --help: %v\n%s", err, out)
	}
	for _, want := range []string{
		"-H, --host", "--tls ", "--tlsverify", "--tlscacert", "--tlscert", "--tlskey", "-G, --group",
		"--data-root string", `(default "/var/lib/wharf")`, "--exec-root string", `(default "/run/wharf")`,
		"--config-file", "--insecure-registry", "--registry-mirror", "-l, --log-level", "-p, --pidfile",
		"--api-cors-header", "--shutdown-timeout", "unix:///run/wharf/wharf.sock",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("wharf daemon --help lacks %q", want)
		}
	}
}

// SIGTERM: new connections are refused at once, a running request finishes
// and gets its answer, then the daemon exits 0.
func TestShutdownLetsRunningRequestFinish(t *testing.T) {
	host, entered, release := heldRegistry(t)
	d := startDaemon(t)
	type result struct {
		r   response
		err error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := d.postAuth(host)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{r: response{Status: resp.StatusCode, Body: string(b)}, err: err}
	}()
	<-entered // the daemon is inside the /auth request (its https try fails at once, http blocks here)
	d.signal(t, syscall.SIGTERM)
	poll(t, "the socket to refuse new connections", func() bool {
		c, err := net.Dial("unix", d.Sock)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	release()
	res := <-got
	if res.err != nil || res.r.Status != 200 {
		t.Fatalf("running request: %+v", res)
	}
	var body struct{ Status string }
	if err := json.Unmarshal([]byte(res.r.Body), &body); err != nil || body.Status != "Login Succeeded" {
		t.Fatalf("running request body %q: %v", res.r.Body, err)
	}
	if err := d.stop(); err != nil {
		t.Fatalf("exit after drain: %v", err)
	}
	if _, err := os.Stat(d.Pidfile); !os.IsNotExist(err) {
		t.Fatalf("pidfile left: %v", err)
	}
}

// A request that outlives --shutdown-timeout is cut; the daemon still exits 0.
func TestShutdownBound(t *testing.T) {
	host, entered, _ := heldRegistry(t)
	d := startDaemonWith(t, daemonOptions{Args: []string{"--shutdown-timeout", "1"}})
	done := make(chan error, 1)
	go func() {
		resp, err := d.postAuth(host)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-entered
	if err := d.stop(); err != nil {
		t.Fatalf("exit past the bound: %v", err)
	}
	if err := <-done; err == nil {
		t.Fatal("request outliving the bound got an answer")
	}
}

// A SIGHUP with a broken daemon.json keeps the old configuration and serving.
func TestReloadWithBadConfigKeepsServing(t *testing.T) {
	d := startDaemon(t)
	d.reload(t, `{"bogus-key": 1}`)
	poll(t, "the failed reload to be logged", func() bool {
		b, _ := os.ReadFile(d.LogPath)
		return strings.Contains(string(b), "reload configuration failed") && strings.Contains(string(b), "bogus-key")
	})
	if r := d.do(t, "GET", "/_ping", nil, nil); r.Status != 200 {
		t.Fatalf("ping after failed reload: %d", r.Status)
	}
	d.reload(t, `{"labels": ["x=y"]}`)
	poll(t, "the reload to apply", func() bool {
		var info struct{ Labels []string }
		_ = json.Unmarshal([]byte(d.do(t, "GET", "/info", nil, nil).Body), &info)
		return len(info.Labels) == 1 && info.Labels[0] == "x=y"
	})
}

// heldRegistry is a registry whose GET /v2/ (no auth: a login succeeds) is
// held until release is called or the caller gives up; entered gets a value
// when the first request is being held. It is released and closed when the
// test ends.
func heldRegistry(t *testing.T) (host string, entered <-chan struct{}, release func()) {
	in := make(chan struct{}, 1)
	held := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case in <- struct{}{}:
		default:
		}
		select {
		case <-held:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(reg.Close)
	t.Cleanup(release) // before Close, which waits for the handlers
	return strings.TrimPrefix(reg.URL, "http://"), in, release
}

// postAuth sends POST /auth for serveraddress host, without credentials.
func (d *daemonProc) postAuth(host string) (*http.Response, error) {
	req, _ := http.NewRequest("POST", "http://wharf/auth", strings.NewReader(`{"serveraddress":"`+host+`"}`))
	req.Header.Set("Content-Type", "application/json")
	return d.httpClient().Do(req)
}
