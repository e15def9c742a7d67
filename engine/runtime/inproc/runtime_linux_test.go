package inproc

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/internal/testbuf"
	"github.com/wharf-project/wharf/internal/testwait"
	"github.com/wharf-project/wharf/libctr"
	_ "github.com/wharf-project/wharf/libctr/nsenter"
	"github.com/wharf-project/wharf/libctr/specconv"
)

// TestMain doubles as the container init, as wharf itself does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "init" && os.Getenv("_LIBCTR_INITPIPE") != "" {
		libctr.Init()
	}
	os.Exit(m.Run())
}

var seq atomic.Int64

// busyboxRootfs lays out Debian's static busybox with a link per applet.
func busyboxRootfs(t *testing.T) string {
	t.Helper()
	const bb = "/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		t.Skip("busybox-static not installed: ", err)
	}
	dir := t.TempDir()
	for _, d := range []string{"bin", "etc", "dev", "proc", "sys", "tmp", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" {
			_ = os.Symlink("busybox", filepath.Join(dir, "bin", a))
		}
	}
	return dir
}

// safeBuffer is shared with the other test packages.
type safeBuffer = testbuf.Buffer

type fixture struct {
	rt  *Runtime
	id  string
	out *safeBuffer
	err *safeBuffer
}

// create makes a container running args from a fresh busybox rootfs; it
// is deleted when the test ends, and its cgroup must be gone then.
func create(t *testing.T, mutate func(*specs.Spec), stdin io.Reader, args ...string) *fixture {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("running containers needs root")
	}
	rt, err := New(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	spec := specconv.Example()
	spec.Root = &specs.Root{Path: busyboxRootfs(t)}
	spec.Process.Terminal = false
	spec.Process.Args = args
	id := fmt.Sprintf("inproc-%d-%d", os.Getpid(), seq.Add(1))
	spec.Linux.CgroupsPath = "/wharf-test/" + id
	if mutate != nil {
		mutate(spec)
	}
	f := &fixture{rt: rt, id: id, out: &safeBuffer{}, err: &safeBuffer{}}
	stdio := container.IO{Stdin: stdin, Stdout: f.out, Stderr: f.err, Terminal: spec.Process.Terminal}
	if err := rt.Create(context.Background(), id, spec, stdio); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// f.rt, not rt: a test that hands the container over to another
		// runtime (adoption) points the fixture there.
		c, _ := f.rt.get(id)
		var paths map[string]string
		if c != nil {
			paths = c.c.Cgroup().Paths()
		}
		if err := f.rt.Delete(context.Background(), id); err != nil && !errdefs.IsNotFound(err) {
			t.Errorf("delete: %v", err)
		}
		for _, p := range paths {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("cgroup left at %s", p)
			}
			_ = os.Remove(filepath.Dir(p))
		}
	})
	return f
}

func (f *fixture) start(t *testing.T) int {
	t.Helper()
	pid, err := f.rt.Start(context.Background(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func (f *fixture) wait(t *testing.T) container.ExitStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := f.rt.Wait(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, what, cond)
}

func TestRunOutputAndExitCode(t *testing.T) {
	f := create(t, nil, nil, "sh", "-c", "echo out; echo err >&2; exit 3")
	if pid := f.start(t); pid <= 0 {
		t.Fatalf("pid %d", pid)
	}
	st := f.wait(t)
	if st.Code != 3 || st.OOMKilled || st.ExitedAt.IsZero() {
		t.Fatalf("status %+v", st)
	}
	if f.out.String() != "out\n" || f.err.String() != "err\n" {
		t.Fatalf("stdout %q stderr %q", f.out, f.err)
	}
}

func TestStdinHalfClose(t *testing.T) {
	f := create(t, nil, strings.NewReader("line one\nline two\n"), "sh", "-c", "wc -l; cat /nonexistent 2>/dev/null; exit 0")
	f.start(t)
	if st := f.wait(t); st.Code != 0 {
		t.Fatalf("status %+v", st)
	}
	if strings.TrimSpace(f.out.String()) != "2" {
		t.Fatalf("stdout %q", f.out)
	}
}

func TestKillPauseResumeAndPids(t *testing.T) {
	f := create(t, nil, nil, "sh", "-c", "echo up; sleep 1000; true")
	f.start(t)
	eventually(t, "output", func() bool { return f.out.String() == "up\n" })
	ctx := context.Background()
	eventually(t, "the shell and its sleep", func() bool {
		pids, err := f.rt.Pids(ctx, f.id)
		return err == nil && len(pids) == 2
	})
	if err := f.rt.Pause(ctx, f.id); err != nil {
		t.Fatal(err)
	}
	if err := f.rt.Pause(ctx, f.id); !errdefs.IsConflict(err) {
		t.Fatalf("second pause: %v", err)
	}
	if err := f.rt.Resume(ctx, f.id); err != nil {
		t.Fatal(err)
	}
	if err := f.rt.Resume(ctx, f.id); !errdefs.IsConflict(err) {
		t.Fatalf("second resume: %v", err)
	}
	st, err := f.rt.Stats(ctx, f.id)
	if err != nil || st.PidsStats.Current != 2 || st.MemoryStats.Usage == 0 || st.CPUStats.SystemUsage == 0 {
		t.Fatalf("stats %+v %v", st, err)
	}
	if err := f.rt.Kill(ctx, f.id, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := f.wait(t); st.Code != 137 {
		t.Fatalf("status %+v", st)
	}
	if err := f.rt.Kill(ctx, f.id, syscall.SIGTERM); !errdefs.IsConflict(err) {
		t.Fatalf("kill after exit: %v", err)
	}
}

func TestKillPausedContainer(t *testing.T) {
	f := create(t, nil, nil, "sleep", "1000")
	f.start(t)
	ctx := context.Background()
	if err := f.rt.Pause(ctx, f.id); err != nil {
		t.Fatal(err)
	}
	if err := f.rt.Kill(ctx, f.id, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := f.wait(t); st.Code != 137 {
		t.Fatalf("status %+v", st)
	}
}

func TestExecExitCodeAndTerminal(t *testing.T) {
	f := create(t, nil, nil, "sleep", "1000")
	f.start(t)
	ctx := context.Background()
	var out safeBuffer
	p, err := f.rt.Exec(ctx, f.id, &specs.Process{Args: []string{"sh", "-c", "echo $FOO; exit 5"}, Env: []string{"PATH=/bin", "FOO=bar"}, Cwd: "/"},
		container.IO{Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait(ctx)
	if err != nil || st.Code != 5 || out.String() != "bar\n" {
		t.Fatalf("exec: %+v %v %q", st, err, out.String())
	}
	// With a terminal: stdin reaches the program through the pty, and a
	// resize is seen by it.
	var tout safeBuffer
	inR, inW := io.Pipe()
	defer inW.Close()
	tp, err := f.rt.Exec(ctx, f.id, &specs.Process{Terminal: true, Args: []string{"sh"}, Env: []string{"PATH=/bin"}, Cwd: "/"},
		container.IO{Stdin: inR, Stdout: &tout, Terminal: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.Resize(91, 17); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(inW, "[ -t 0 ] && echo IS-A-TTY; stty size; exit 4\n"); err != nil {
		t.Fatal(err)
	}
	st, err = tp.Wait(ctx)
	if err != nil || st.Code != 4 || !strings.Contains(tout.String(), "IS-A-TTY") || !strings.Contains(tout.String(), "17 91") {
		t.Fatalf("tty exec: %+v %v %q", st, err, tout.String())
	}
	if err := f.rt.Kill(ctx, f.id, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	f.wait(t)
}

func TestTerminalInit(t *testing.T) {
	f := create(t, func(s *specs.Spec) { s.Process.Terminal = true }, nil, "sh", "-c", "[ -t 1 ] && echo tty; exit 2")
	f.start(t)
	if st := f.wait(t); st.Code != 2 {
		t.Fatalf("status %+v", st)
	}
	if got := f.out.String(); got != "tty\r\n" {
		t.Fatalf("output %q", got)
	}
}

func TestOOMKilled(t *testing.T) {
	mem := int64(16 << 20)
	f := create(t, func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &mem, Swap: &mem}}
	}, nil, "tail", "/dev/zero")
	f.start(t)
	st := f.wait(t)
	if st.Code != 137 || !st.OOMKilled {
		t.Fatalf("status %+v", st)
	}
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("running containers needs root")
	}
	rt, err := New(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	spec := specconv.Example()
	spec.Root = &specs.Root{Path: busyboxRootfs(t)}
	spec.Process.Terminal = false
	spec.Process.Args = []string{"nosuch-program"}
	id := fmt.Sprintf("inproc-%d-%d", os.Getpid(), seq.Add(1))
	spec.Linux.CgroupsPath = "/wharf-test/" + id
	err = rt.Create(context.Background(), id, spec, container.IO{})
	if err == nil || !strings.Contains(err.Error(), "executable file not found") {
		t.Fatalf("create: %v", err)
	}
	if ids, _ := rt.factory.List(); len(ids) != 0 {
		t.Fatalf("left in the runtime root: %v", ids)
	}
	if _, err := rt.get(id); !errdefs.IsNotFound(err) {
		t.Fatalf("get: %v", err)
	}
}
