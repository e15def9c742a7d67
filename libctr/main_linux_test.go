package libctr_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/internal/testbuf"
	"github.com/wharf-project/wharf/internal/testwait"
	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/internal/rootfstest"
	_ "github.com/wharf-project/wharf/libctr/nsenter"
	"github.com/wharf-project/wharf/libctr/specconv"
)

// TestMain doubles as the container init: the factory re-executes this
// test binary as "<binary> init", exactly as wharf re-executes itself.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libctr.Init()
	}
	os.Exit(m.Run())
}

var seq atomic.Int64

// testContainer creates (but does not start) a container running args in
// a fresh busybox rootfs, with the example spec's namespaces, mounts and
// confinement, after mutate has had its say. Everything it makes is
// removed when the test ends, and the test fails if anything is left.
func testContainer(t testing.TB, mutate func(*specs.Spec), args ...string) *tc {
	t.Helper()
	return testContainerWith(t, nil, mutate, args...)
}

// testContainerWith is testContainer with the factory set up by setup
// (when not nil) before the container is created.
func testContainerWith(t testing.TB, setup func(*libctr.Factory), mutate func(*specs.Spec), args ...string) *tc {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("starting containers needs root")
	}
	rootfs := rootfstest.Busybox(t)
	spec := specconv.Example()
	spec.Root = &specs.Root{Path: rootfs}
	spec.Process.Terminal = false
	spec.Process.Args = args
	spec.Hostname = "wharf-test"
	id := fmt.Sprintf("t%d-%d", os.Getpid(), seq.Add(1))
	spec.Linux.CgroupsPath = "/wharf-test-libctr/" + id
	if mutate != nil {
		mutate(spec)
	}
	cfg, proc, err := specconv.ToConfig(spec, specconv.Options{ID: id, Bundle: rootfs})
	if err != nil {
		t.Fatal(err)
	}
	f, err := libctr.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(f)
	}
	c, err := f.Create(id, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		paths := c.Cgroup().Paths()
		if err := c.Destroy(); err != nil {
			t.Errorf("destroy: %v", err)
		}
		assertNothingLeft(t, c, paths, rootfs)
	})
	return &tc{Container: c, factory: f, proc: *proc, rootfs: rootfs}
}

// tc is a test container with the process its spec gives.
type tc struct {
	*libctr.Container
	factory *libctr.Factory
	proc    configs.Process
	rootfs  string
	stdin   io.Reader // given to the process by start when set
}

// start runs the spec's process with output into buffers.
func (c *tc) start(t testing.TB) (p *libctr.Process, out, errb *syncBuffer) {
	t.Helper()
	out, errb = &syncBuffer{}, &syncBuffer{}
	p = &libctr.Process{Process: c.proc, Stdout: out, Stderr: errb}
	var stdinW *os.File
	if c.stdin != nil {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		p.Stdin, stdinW = r, w
	}
	if err := c.Run(p); err != nil {
		t.Fatal(err)
	}
	if stdinW != nil {
		if _, err := io.Copy(stdinW, c.stdin); err != nil {
			t.Fatal(err)
		}
		stdinW.Close()
	}
	return p, out, errb
}

// run starts c with its spec'd process, lets it run to the end, and
// returns stdout, stderr and the exit code.
func (c *tc) run(t *testing.T) (string, string, int) {
	t.Helper()
	p, out, errb := c.start(t)
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), libctr.ExitCode(st)
}

// assertNothingLeft checks the host after a destroy: no state directory,
// no cgroup directory, no mount below the rootfs.
func assertNothingLeft(t testing.TB, c *libctr.Container, cgroupPaths map[string]string, rootfs string) {
	t.Helper()
	for ctrl, p := range cgroupPaths {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("cgroup %s left at %s", ctrl, p)
		}
		_ = os.Remove(filepath.Dir(p)) // this package's /wharf-test-libctr parent, once empty (tests here run one at a time)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mi), rootfs) {
		t.Errorf("host mount table still mentions %s", rootfs)
	}
}

// eventually polls cond until it holds or a generous deadline passes; the
// machine running the tests may be busy, so only the deadline fails.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, what, cond)
}

// syncBuffer is shared with the other test packages.
type syncBuffer = testbuf.Buffer

// enter runs p in the running container c, waits for it and returns its
// exit code.
func enter(t testing.TB, c interface{ Enter(*libctr.Process) error }, p *libctr.Process) int {
	t.Helper()
	if err := c.Enter(p); err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return libctr.ExitCode(st)
}
