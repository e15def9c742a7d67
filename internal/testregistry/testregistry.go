// Package testregistry starts a real registry process for tests: the wharf
// binary (`wharf registry serve`, built once per test binary) or, for
// comparison, Debian's docker-registry (distribution 2.8.2), each on a free
// loopback port with its data in a temp dir.
//
// A test starts one, talks HTTP to it and lets t.Cleanup stop it:
//
//	reg := testregistry.Start(t, testregistry.Options{})
//	resp, err := http.Get(reg.URL + "/v2/")
//
// Packages that use it should stop the built binary from outliving the test
// binary with
//
//	func TestMain(m *testing.M) { os.Exit(testregistry.Run(m)) }
//
// The server is chosen by Options.Server, or for the whole run by the
// environment variable WHARF_TEST_REGISTRY=distribution (default: wharf), so
// one suite can be pointed at distribution while comparing behaviour.
package testregistry

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wharf-project/wharf/internal/testbin"
)

// Server names a registry implementation.
type Server string

const (
	// Wharf is `wharf registry serve`, built from this module.
	Wharf Server = "wharf"
	// Distribution is Debian's docker-registry (distribution 2.8.2).
	Distribution Server = "distribution"
)

// DistributionBinary is where Debian installs distribution's registry.
const DistributionBinary = "/usr/bin/docker-registry"

// Options configure a registry process. The zero value is a writable
// registry with deletes enabled on a fresh temp dir and a free port.
type Options struct {
	// Server is the implementation; empty means $WHARF_TEST_REGISTRY or Wharf.
	Server Server
	// Root is the storage directory; empty means a new t.TempDir().
	Root string
	// Addr is the host:port to listen on; empty means a free loopback port.
	Addr string
	// DisableDelete sets storage.delete.enabled to false.
	DisableDelete bool
	// ReadOnly sets storage.maintenance.readonly.enabled to true.
	ReadOnly bool
	// Env is added to the process environment (REGISTRY_* overrides).
	Env []string
	// TLSCert and TLSKey (PEM files) serve https (http.tls); URL is then
	// https://.
	TLSCert, TLSKey string
	// LogLevel is log.level; empty means info.
	LogLevel string
	// Htpasswd is an htpasswd file (bcrypt entries) that turns on basic
	// auth (auth.htpasswd, realm "testregistry").
	Htpasswd string
	// User and Password, when User is set and Htpasswd is empty, are the
	// one account of basic auth: Start writes its bcrypt hash to an
	// htpasswd file and uses that as Htpasswd. Registry.User and
	// Registry.Password hand them back to the test.
	User, Password string
	// NoConfigFile starts `wharf registry serve` without a config file: the
	// embedded default, with addr, root and delete set through REGISTRY_*
	// variables (ReadOnly, TLS and Htpasswd are not supported then).
	NoConfigFile bool
}

// Registry is a running registry process.
type Registry struct {
	URL    string // base URL, http://127.0.0.1:port
	Host   string // host:port, as used in image references
	Root   string // storage root directory
	Server Server

	// User and Password are Options.User and Options.Password, the
	// account a test logs in with.
	User, Password string

	t      testing.TB
	opts   Options
	cmd    *exec.Cmd
	done   chan struct{}
	log    string
	config string
}

// Start starts a registry and waits until it answers GET /v2/. It is stopped
// when the test ends; if the test failed, its log is printed.
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	if opts.Server == "" {
		opts.Server = Server(os.Getenv("WHARF_TEST_REGISTRY"))
		if opts.Server == "" {
			opts.Server = Wharf
		}
	}
	if opts.Root == "" {
		opts.Root = t.TempDir()
	}
	if opts.User != "" && opts.Htpasswd == "" {
		opts.Htpasswd = writeHtpasswd(t, opts.User, opts.Password)
	}
	// A free port is found by binding :0 and closing it; another process may
	// take it in between, so a start that loses the port is tried again.
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		o := opts
		if o.Addr == "" {
			o.Addr = freeAddr(t)
		}
		var r *Registry
		r, err = start(t, o)
		if err == nil {
			t.Cleanup(r.cleanup)
			return r
		}
		if opts.Addr != "" || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("testregistry: %v", err)
	return nil
}

// Restart stops the registry and starts it again on the same address and
// root (so upload locations handed out before stay valid), with opts
// changed by edit when it is not nil.
func (r *Registry) Restart(edit func(*Options)) *Registry {
	r.t.Helper()
	r.Stop()
	opts := r.opts
	if edit != nil {
		edit(&opts)
	}
	return Start(r.t, opts)
}

// Stop asks the process to shut down (SIGTERM) and waits for it, killing
// it after 30 s. Stopping twice is harmless.
func (r *Registry) Stop() { r.stop(syscall.SIGTERM) }

// Kill ends the process at once (SIGKILL), as a crash would.
func (r *Registry) Kill() { r.stop(syscall.SIGKILL) }

// ConfigFile is the config.yml the process was started with (empty with
// NoConfigFile); tests may rewrite it and send SIGHUP.
func (r *Registry) ConfigFile() string { return r.config }

// PID is the registry process's id, for tests that signal it or look
// into /proc.
func (r *Registry) PID() int { return r.cmd.Process.Pid }

// Done is closed when the process has exited.
func (r *Registry) Done() <-chan struct{} { return r.done }

// Log returns what the process wrote to stdout and stderr so far.
func (r *Registry) Log() string {
	b, _ := os.ReadFile(r.log)
	return string(b)
}

func (r *Registry) stop(sig syscall.Signal) {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(sig)
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

func (r *Registry) cleanup() {
	r.Stop()
	if r.t.Failed() {
		log := r.Log()
		if len(log) > 8<<10 {
			log = "...\n" + log[len(log)-8<<10:]
		}
		r.t.Logf("testregistry: %s log (%s):\n%s", r.Server, r.Host, log)
	}
}

func start(t testing.TB, opts Options) (*Registry, error) {
	var bin string
	var args []string
	switch opts.Server {
	case Wharf:
		bin, args = Binary(t), []string{"registry", "serve"}
	case Distribution:
		if _, err := os.Stat(DistributionBinary); err != nil {
			t.Skipf("testregistry: %s not installed (Debian package docker-registry): %v", DistributionBinary, err)
		}
		bin, args = DistributionBinary, []string{"serve"}
	default:
		return nil, fmt.Errorf("unknown server %q", opts.Server)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(config(opts)), 0o644); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "registry.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()

	env := cleanEnv()
	if opts.NoConfigFile {
		if opts.Server != Wharf || opts.ReadOnly || opts.TLSCert != "" || opts.Htpasswd != "" {
			return nil, fmt.Errorf("NoConfigFile needs the wharf server, without ReadOnly, TLS or Htpasswd")
		}
		env = append(env, "REGISTRY_HTTP_ADDR="+opts.Addr,
			"REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="+opts.Root,
			fmt.Sprintf("REGISTRY_STORAGE_DELETE_ENABLED=%t", !opts.DisableDelete))
	} else {
		args = append(args, cfg)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(env, opts.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	scheme := "http://"
	if opts.TLSCert != "" {
		scheme = "https://"
	}
	r := &Registry{
		URL: scheme + opts.Addr, Host: opts.Addr, Root: opts.Root, Server: opts.Server,
		User: opts.User, Password: opts.Password,
		t: t, opts: opts, cmd: cmd, done: make(chan struct{}), log: logPath,
	}
	if !opts.NoConfigFile {
		r.config = cfg
	}
	go func() { _ = cmd.Wait(); close(r.done) }()
	if err := r.waitReady(); err != nil {
		r.Kill()
		return nil, fmt.Errorf("%s on %s: %w\n%s", opts.Server, opts.Addr, err, r.Log())
	}
	return r, nil
}

// waitReady polls GET /v2/ until it answers 200 (401 with auth), the
// process exits or 30 s pass.
func (r *Registry) waitReady() error {
	// Readiness only: the certificate is the test's business.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			return errors.New("exited before serving: " + r.cmd.ProcessState.String())
		default:
		}
		if resp, err := client.Get(r.URL + "/v2/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("not serving GET /v2/ after 30s")
}

// config renders a distribution config.yml (version 0.1) for opts, using
// only keys both servers know.
func config(opts Options) string {
	var b strings.Builder
	level := opts.LogLevel
	if level == "" {
		level = "info"
	}
	fmt.Fprintf(&b, "version: 0.1\nlog:\n  level: %s\nstorage:\n", level)
	fmt.Fprintf(&b, "  filesystem:\n    rootdirectory: %s\n", opts.Root)
	fmt.Fprintf(&b, "  delete:\n    enabled: %t\n", !opts.DisableDelete)
	if opts.ReadOnly {
		fmt.Fprintf(&b, "  maintenance:\n    readonly:\n      enabled: true\n")
	}
	if opts.Htpasswd != "" {
		fmt.Fprintf(&b, "auth:\n  htpasswd:\n    realm: testregistry\n    path: %s\n", opts.Htpasswd)
	}
	fmt.Fprintf(&b, "http:\n  addr: %s\n", opts.Addr)
	if opts.TLSCert != "" {
		fmt.Fprintf(&b, "  tls:\n    certificate: %s\n    key: %s\n", opts.TLSCert, opts.TLSKey)
	}
	if opts.Server == Distribution {
		// distribution signs upload state with this secret, a random one
		// per start by default, which would end uploads at a restart.
		fmt.Fprintf(&b, "  secret: testregistry\n")
	}
	return b.String()
}

// writeHtpasswd writes an htpasswd file with one bcrypt entry, as
// `htpasswd -Bbn user password` prints it, and returns its path.
func writeHtpasswd(t testing.TB, user, password string) string {
	t.Helper()
	// The lowest cost: the registries accept any, and tests stay fast.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatalf("testregistry: bcrypt: %v", err)
	}
	p := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(p, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatalf("testregistry: %v", err)
	}
	return p
}

// cleanEnv is the test's environment without REGISTRY_* variables, which
// would override the config.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testregistry: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Binary returns the path of a wharf binary (see testbin.Wharf: built once
// per test binary, or $WHARF_BINARY).
func Binary(t testing.TB) string {
	t.Helper()
	p, err := testbin.Wharf()
	if err != nil {
		t.Fatalf("testregistry: %v", err)
	}
	return p
}

// Run runs the tests and removes the binary Binary built; use it from TestMain.
func Run(m *testing.M) int { return testbin.Run(m) }
