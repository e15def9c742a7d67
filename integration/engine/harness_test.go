package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/wharf-project/wharf/internal/testbin"
	"github.com/wharf-project/wharf/internal/testwait"
)

// Clients the tests drive the daemon with.
const (
	dockerCLI       = "/usr/local/bin/docker" // docker 28.2.2, negotiates API 1.50
	debianDockerCLI = "/usr/bin/docker"       // Debian's docker.io 20.10 (API 1.41)
)

// wharfBin is the wharf binary built once for this test binary by TestMain
// (testbin: $WHARF_BINARY instead, $WHARF_TEST_RACE for a daemon with the
// race detector).
var wharfBin string

func TestMain(m *testing.M) {
	var err error
	if wharfBin, err = testbin.Wharf(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(testbin.Run(m))
}

// daemonProc is a running `wharf daemon` on its own socket and roots.
type daemonProc struct {
	Dir      string // short temp dir holding everything below
	Sock     string // unix socket path ("" when started without one)
	Host     string // -H value clients use: unix://<Sock> or tcp://...
	DataRoot string
	ExecRoot string
	Pidfile  string
	LogPath  string

	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, set when done is closed
}

// daemonOptions change how startDaemonWith starts the daemon.
type daemonOptions struct {
	// Args are added to the command line.
	Args []string
	// Hosts replace the default -H unix://<dir>/d.sock; Host (for clients)
	// is then ClientHost.
	Hosts      []string
	ClientHost string
	// ExtraFiles are passed as fds 3, 4, ... with LISTEN_FDS/LISTEN_PID set,
	// as systemd socket activation does, for -H fd://.
	ExtraFiles []*os.File
	// NoWait skips waiting for /_ping (the caller checks readiness itself).
	NoWait bool
	// DaemonJSON, when set, returns the daemon.json to use, given the
	// daemon's directory. With NoHosts no -H is passed, and clients use
	// unix://<dir>/d.sock, which the file's "hosts" should then name.
	DaemonJSON func(dir string) string
	NoHosts    bool
}

// startDaemon starts a daemon with default options; it is stopped (SIGTERM,
// and its exit checked) when the test ends.
func startDaemon(t *testing.T) *daemonProc {
	t.Helper()
	return startDaemonWith(t, daemonOptions{})
}

func startDaemonWith(t *testing.T, o daemonOptions) *daemonProc {
	t.Helper()
	// Unix socket paths are limited to 108 bytes: t.TempDir can be longer.
	dir, err := os.MkdirTemp("", "wd-")
	if err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{
		Dir:      dir,
		DataRoot: filepath.Join(dir, "data"),
		ExecRoot: filepath.Join(dir, "exec"),
		Pidfile:  filepath.Join(dir, "pid"),
		LogPath:  filepath.Join(dir, "daemon.log"),
		done:     make(chan struct{}),
	}
	hosts := o.Hosts
	if o.NoHosts {
		d.Sock = filepath.Join(dir, "d.sock")
		d.Host = "unix://" + d.Sock
	} else if len(hosts) == 0 {
		d.Sock = filepath.Join(dir, "d.sock")
		d.Host = "unix://" + d.Sock
		hosts = []string{d.Host}
	} else {
		d.Host = o.ClientHost
	}
	args := []string{"daemon", "--data-root", d.DataRoot, "--exec-root", d.ExecRoot, "--pidfile", d.Pidfile,
		"--config-file", filepath.Join(dir, "daemon.json")}
	for _, h := range hosts {
		args = append(args, "-H", h)
	}
	args = append(args, o.Args...)
	// At least an empty file: the host's /etc/wharf/daemon.json must not leak in.
	daemonJSON := "{}"
	if o.DaemonJSON != nil {
		daemonJSON = o.DaemonJSON(dir)
	}
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte(daemonJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(d.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.ExtraFiles) > 0 {
		// LISTEN_PID must be the daemon's own pid: let a shell set it and exec.
		sh := fmt.Sprintf(`export LISTEN_PID=$$ LISTEN_FDS=%d; exec "$0" "$@"`, len(o.ExtraFiles))
		d.cmd = exec.Command("/bin/sh", append([]string{"-c", sh, wharfBin}, args...)...)
		d.cmd.ExtraFiles = o.ExtraFiles
	} else {
		d.cmd = exec.Command(wharfBin, args...)
	}
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	go func() {
		d.err = d.cmd.Wait()
		logf.Close()
		close(d.done)
	}()
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("daemon did not stop cleanly: %v", err)
		}
		if t.Failed() {
			b, _ := os.ReadFile(d.LogPath)
			t.Logf("daemon log:\n%s", b)
		}
		os.RemoveAll(dir)
	})
	if !o.NoWait {
		d.waitReady(t)
	}
	return d
}

// waitReady polls GET /_ping until it answers 200, failing if the daemon
// exits or 30 s pass.
func (d *daemonProc) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-d.done:
			b, _ := os.ReadFile(d.LogPath)
			t.Fatalf("daemon exited while starting (%v):\n%s", d.err, b)
		default:
		}
		if d.Sock != "" {
			if resp, err := d.httpClient().Get("http://wharf/_ping"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
		} else if d.Host == "" {
			return
		} else if c, err := net.Dial("tcp", strings.TrimPrefix(d.Host, "tcp://")); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("daemon not ready after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits up to 30 s for a clean exit (status 0).
// Calling it again returns the same result.
func (d *daemonProc) stop() error {
	select {
	case <-d.done:
		return d.err
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return d.err
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		return errors.New("daemon still running 30s after SIGTERM; killed")
	}
}

// signal sends sig to the daemon.
func (d *daemonProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// cliEnv is the environment for the docker CLIs: the caller's, without
// anything that would point the CLI elsewhere, and a private config dir so
// logins never touch the host's ~/.docker.
func (d *daemonProc) cliEnv(extra ...string) []string {
	var env []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "DOCKER_") {
			continue
		}
		env = append(env, e)
	}
	env = append(env, "DOCKER_CONFIG="+filepath.Join(d.Dir, "cli"))
	return append(env, extra...)
}

// dockerCmd runs a docker CLI binary against the daemon.
func (d *daemonProc) dockerCmd(bin string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-H", d.Host}, args...)...)
	cmd.Env = d.cliEnv(env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// docker runs /usr/local/bin/docker and fails the test when it fails.
func (d *daemonProc) docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := d.dockerCmd(dockerCLI, nil, args...)
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// dockerErr runs /usr/local/bin/docker and returns its output and error.
func (d *daemonProc) dockerErr(args ...string) (string, error) {
	return d.dockerCmd(dockerCLI, nil, args...)
}

// debianDocker runs Debian's 20.10 CLI, failing the test when it fails.
// Tests using it call requireDebianDocker first.
func (d *daemonProc) debianDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := d.dockerCmd(debianDockerCLI, nil, args...)
	if err != nil {
		t.Fatalf("debian docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// requireDebianDocker skips when Debian's docker.io CLI is not installed
// (.ci/deps installs it; a developer machine may not have it).
func requireDebianDocker(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(debianDockerCLI); err != nil {
		t.Skipf("Debian's docker CLI (%s, package docker.io) is not installed", debianDockerCLI)
	}
}

// httpClient talks HTTP over the daemon's unix socket (any host name).
func (d *daemonProc) httpClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var dl net.Dialer
				return dl.DialContext(ctx, "unix", d.Sock)
			},
			DisableKeepAlives: true,
		},
	}
}

// response is a whole raw HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   string
}

// do sends one raw request over the socket: path includes any /v1.NN prefix.
func (d *daemonProc) do(t *testing.T, method, path string, header map[string]string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, "http://wharf"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := d.httpClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// client returns the official Go SDK client, negotiating the API version.
func (d *daemonProc) client(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.NewClientWithOpts(client.WithHost(d.Host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// poll is testwait.For by this suite's short name: call cond until it
// returns true, failing after 30 s.
var poll = testwait.For
