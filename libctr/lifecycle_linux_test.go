package libctr_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/cgroups"
	"github.com/wharf-project/wharf/libctr/configs"
)

func TestCreateStartStatus(t *testing.T) {
	c := testContainer(t, nil, "sh", "-c", "echo started > /tmp/started; exec sleep 1000")
	if st := c.Status(); st != libctr.Creating {
		t.Fatalf("before start: %s", st)
	}
	p := &libctr.Process{Process: c.proc}
	if err := c.Start(p); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st != libctr.Created {
		t.Fatalf("after start: %s", st)
	}
	// Created: the init waits; the user's program has not run.
	if _, err := os.Stat(filepath.Join(c.rootfs, "tmp/started")); err == nil {
		t.Fatal("program ran before Exec")
	}
	if err := c.Exec(); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st != libctr.Running {
		t.Fatalf("after exec: %s", st)
	}
	eventually(t, "program runs", func() bool {
		_, err := os.Stat(filepath.Join(c.rootfs, "tmp/started"))
		return err == nil
	})
	if err := c.Exec(); !errors.Is(err, libctr.ErrBadState) {
		t.Errorf("second Exec: %v", err)
	}
	// pid 1 of a pid namespace only gets signals it has a handler for,
	// even from the host; SIGKILL is the exception.
	if err := c.Signal(syscall.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if code := libctr.ExitCode(st); code != 128+int(syscall.SIGKILL) {
		t.Errorf("exit %d", code)
	}
	if st := c.Status(); st != libctr.Stopped {
		t.Errorf("after exit: %s", st)
	}
	if err := c.Signal(syscall.SIGTERM, false); !errors.Is(err, libctr.ErrNotRunning) {
		t.Errorf("signal to a stopped container: %v", err)
	}
}

func TestFailedStartLeavesNothing(t *testing.T) {
	c := testContainer(t, nil, "/does/not/exist")
	err := c.Start(&libctr.Process{Process: c.proc})
	if err == nil || !strings.Contains(err.Error(), "/does/not/exist") {
		t.Fatalf("start: %v", err)
	}
	// testContainer's cleanup destroys and checks for leftovers.
}

func TestCgroupLimitsWrittenAndReadBack(t *testing.T) {
	if cgroups.IsV2() {
		t.Skip("reads the v1 files (memory.limit_in_bytes, cpu.shares); this host runs cgroup v2 only, whose writes the cgroups package's v2 tests cover")
	}
	mem, pids, shares := int64(64<<20), int64(100), uint64(512)
	c := testContainer(t, func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem}
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
		s.Linux.Resources.CPU = &specs.LinuxCPU{Shares: &shares}
	}, "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.shares")
	out, errOut, code := c.run(t)
	if code != 0 || out != "67108864\n100\n512\n" {
		t.Fatalf("inside: %q %q exit %d", out, errOut, code)
	}
	paths := c.Cgroup().Paths()
	b, err := os.ReadFile(filepath.Join(paths["memory"], "memory.limit_in_bytes"))
	if err != nil || strings.TrimSpace(string(b)) != "67108864" {
		t.Errorf("host side memory limit %q %v", b, err)
	}
	// Update while it exists, as `wharf runtime update` does.
	r := *c.Config().Cgroups.Resources
	r.PidsLimit = 200
	if err := c.Set(r); err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(filepath.Join(paths["pids"], "pids.max"))
	if err != nil || strings.TrimSpace(string(b)) != "200" {
		t.Errorf("updated pids.max %q %v", b, err)
	}
}

// TestRunGoesOnAtOnce: Run of a container with an init plan goes straight
// to the program: no exec fifo is ever made in its state directory, where
// Start makes one and stops at "created".
func TestRunGoesOnAtOnce(t *testing.T) {
	for _, run := range []bool{true, false} {
		c := testContainer(t, nil, "sleep", "100")
		dir := filepath.Join(c.factory.Root, c.ID())
		made := watchCreated(t, dir)
		p := &libctr.Process{Process: c.proc}
		var err error
		if run {
			err = c.Run(p)
		} else {
			err = c.Start(p)
		}
		if err != nil {
			t.Fatal(err)
		}
		fifo, want := slices.Contains(made(), "exec.fifo"), libctr.Created
		if run {
			want = libctr.Running
		}
		if st := c.Status(); st != want || fifo == run {
			t.Errorf("run=%v: status %s (want %s), exec fifo made: %v", run, st, want, fifo)
		}
	}
}

// watchCreated watches dir for names created in it, until the returned
// function lists them.
func watchCreated(t *testing.T, dir string) func() []string {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		var names []string
		buf := make([]byte, 64<<10)
		n, _ := unix.Read(fd, buf)
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			names = append(names, strings.TrimRight(string(name), "\x00"))
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
		return names
	}
}

// TestCgroupsAtCreate: with Factory.CgroupsAtCreate the cgroups of a
// cgroup v1 container, limits written, come with Create; a Set before
// Start is not undone by them, Start uses them, and a container destroyed
// without a Start leaves none behind (testContainer's cleanup checks).
func TestCgroupsAtCreate(t *testing.T) {
	if cgroups.IsV2() {
		t.Skip("cgroup v1 only: on v2 the init is cloned into a cgroup Start makes")
	}
	early := func(f *libctr.Factory) { f.CgroupsAtCreate = true }
	limit := func(mem int64) func(*specs.Spec) {
		return func(s *specs.Spec) { s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem} }
	}
	memLimit := func(c *tc) string {
		b, _ := os.ReadFile(filepath.Join(c.Cgroup().Paths()["memory"], "memory.limit_in_bytes"))
		return strings.TrimSpace(string(b))
	}
	t.Run("destroyed unstarted", func(t *testing.T) {
		c := testContainerWith(t, early, limit(64<<20), "true")
		eventually(t, "the memory limit written after Create", func() bool { return memLimit(c) == "67108864" })
	})
	t.Run("set before start", func(t *testing.T) {
		c := testContainerWith(t, early, limit(64<<20), "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
		r := *c.Config().Cgroups.Resources
		r.Memory = 32 << 20
		if err := c.Set(r); err != nil {
			t.Fatal(err)
		}
		if got := memLimit(c); got != "33554432" {
			t.Fatalf("memory limit after Set %q, want 33554432", got)
		}
		if out, errOut, code := c.run(t); code != 0 || out != "33554432\n" {
			t.Fatalf("inside: %q %q exit %d", out, errOut, code)
		}
	})
	t.Run("started", func(t *testing.T) {
		c := testContainerWith(t, early, limit(48<<20), "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
		if out, errOut, code := c.run(t); code != 0 || out != "50331648\n" {
			t.Fatalf("inside: %q %q exit %d", out, errOut, code)
		}
	})
}

func TestPidsLimitRefusesFork(t *testing.T) {
	limit := int64(4)
	c := testContainer(t, func(s *specs.Spec) {
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &limit}
	}, "sh", "-c", "read go; for i in 1 2 3 4 5 6 7 8; do sleep 1000 & echo $i >> /tmp/forked; done; echo all forked")
	// A limit this small is written once the init has exec'd (see
	// initPidsHeadroom): let the shell fork only after Run returned.
	c.stdin = strings.NewReader("go\n")
	out, errOut, code := c.run(t)
	// ash gives up on the first fork the kernel refuses.
	if code == 0 || strings.Contains(out, "all forked") || !strings.Contains(errOut, "fork") {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(c.rootfs, "tmp/forked"))
	if err != nil {
		t.Fatal(err)
	}
	// The shell itself counts: limit-1 children at most.
	if n := len(strings.Fields(string(b))); n != int(limit)-1 {
		t.Errorf("%d children forked with pids.max %d", n, limit)
	}
}

func TestOOMKillDetected(t *testing.T) {
	mem := int64(32 << 20)
	c := testContainer(t, func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem, Swap: &mem}
	}, "sh", "-c", "read go; dd if=/dev/zero of=/dev/null bs=128M count=1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	p := &libctr.Process{Process: c.proc, Stdin: r}
	if err := c.Run(p); err != nil {
		t.Fatal(err)
	}
	events, err := c.NotifyOOM(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-events:
	case <-time.After(60 * time.Second):
		t.Fatal("no OOM event within 60s")
	}
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if code := libctr.ExitCode(st); code != 128+int(syscall.SIGKILL) {
		t.Errorf("exit %d, want 137 (the shell's dd child was OOM-killed, so sh... )", code)
	}
	s, err := c.Stats()
	if err != nil || s.OOMKills == 0 {
		t.Errorf("oom kills %+v %v", s, err)
	}
}

func TestExecJoinsEveryNamespace(t *testing.T) {
	c := testContainer(t, nil, "sleep", "1000")
	c.start(t)
	var out, errb bytes.Buffer
	p := &libctr.Process{Process: configs.Process{
		Args: []string{"sh", "-c", "hostname; for n in ipc mnt net pid uts cgroup; do readlink /proc/self/ns/$n; done; exit 7"},
		Env:  []string{"PATH=/bin"}, Cwd: "/tmp",
	}, Stdout: &out, Stderr: &errb}
	if code := enter(t, c, p); code != 7 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 7 || lines[0] != "wharf-test" {
		t.Fatalf("output %q", out.String())
	}
	init := c.State().InitPid
	for i, n := range []string{"ipc", "mnt", "net", "pid", "uts", "cgroup"} {
		want, err := os.Readlink("/proc/" + strconv.Itoa(init) + "/ns/" + n)
		if err != nil || lines[i+1] != want {
			t.Errorf("%s namespace %q, init's %q (%v)", n, lines[i+1], want, err)
		}
	}
}

// TestStatsMove: a busy container's counters grow, and the network
// interfaces come from its own namespace (only lo).
func TestStatsMove(t *testing.T) {
	c := testContainer(t, nil, "sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo done; exec sleep 1000")
	_, out, _ := c.start(t)
	eventually(t, "the busy loop ends", func() bool { return strings.Contains(out.String(), "done") })
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Cgroup.CPU.Usage.Total == 0 || s.Cgroup.Memory.Usage.Usage == 0 || s.Cgroup.Pids.Current != 1 {
		t.Errorf("cpu %+v memory %+v pids %+v", s.Cgroup.CPU.Usage, s.Cgroup.Memory.Usage, s.Cgroup.Pids)
	}
	if len(s.Interfaces) != 1 || s.Interfaces[0].Name != "lo" {
		t.Errorf("interfaces %+v", s.Interfaces)
	}
	before := s.Cgroup.CPU.Usage.Total
	var buf bytes.Buffer
	p := &libctr.Process{Process: configs.Process{Args: []string{"sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done"}, Env: []string{"PATH=/bin"}, Cwd: "/"}, Stdout: &buf}
	enter(t, c, p)
	if s, err = c.Stats(); err != nil || s.Cgroup.CPU.Usage.Total <= before {
		t.Errorf("cpu usage %d after an exec'd busy loop, %d before (%v)", s.Cgroup.CPU.Usage.Total, before, err)
	}
}

// TestPausedCreatedContainer: a created container can be paused; it then
// reports paused, refuses to start, and is destroyed cleanly.
func TestPausedCreatedContainer(t *testing.T) {
	c := testContainer(t, nil, "true")
	if err := c.Start(&libctr.Process{Process: c.proc}); err != nil {
		t.Fatal(err)
	}
	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st != libctr.Paused {
		t.Fatalf("status %s", st)
	}
	if err := c.Exec(); !errors.Is(err, libctr.ErrBadState) {
		t.Fatalf("exec of a paused container: %v", err)
	}
	// testContainer's cleanup destroys it while frozen and checks leftovers.
}

// TestContainerHooks: createContainer runs before pivot_root in the
// container's namespaces (its own mount namespace), startContainer at
// start inside the container (paths resolve in the rootfs); both get the
// state.
func TestContainerHooks(t *testing.T) {
	dir := t.TempDir()
	hook := filepath.Join(dir, "hook.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\nread state; echo \"$(readlink /proc/self/ns/mnt) $1 $state\" > "+dir+"/created\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := testContainer(t, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{
			CreateContainer: []specs.Hook{{Path: hook, Args: []string{"hook.sh", "create"}}},
			StartContainer:  []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > /tmp/started-state"}}},
		}
	}, "cat", "/tmp/started-state")
	p := &libctr.Process{Process: c.proc}
	var out syncBuffer
	p.Stdout = &out
	if err := c.Start(p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "created"))
	hostMnt, _ := os.Readlink("/proc/self/ns/mnt")
	f := strings.Fields(string(b))
	if err != nil || len(f) < 3 || f[0] == hostMnt || !strings.HasPrefix(f[0], "mnt:[") || f[1] != "create" ||
		!strings.Contains(string(b), `"id":"`+c.ID()+`"`) || !strings.Contains(string(b), `"status":"created"`) {
		t.Fatalf("createContainer hook: %q (%v), host %s", b, err, hostMnt)
	}
	if _, err := os.Stat(filepath.Join(c.rootfs, "tmp/started-state")); err == nil {
		t.Fatal("startContainer hook ran before start")
	}
	if err := c.Exec(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"status":"running"`) || !strings.Contains(out.String(), fmt.Sprintf(`"pid":%d`, c.State().InitPid)) {
		t.Errorf("startContainer state %q", out.String())
	}
}
