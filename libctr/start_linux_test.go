package libctr_test

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/cgroups"
	"github.com/wharf-project/wharf/libctr/configs"
)

// TestStartReturnsOnceTheProgramRuns: when Exec returns, the init has
// execve'd the program (the exec fifo's end-of-file), so the process is no
// longer the multi-threaded Go init but the one-threaded busybox.
func TestStartReturnsOnceTheProgramRuns(t *testing.T) {
	c := testContainer(t, nil, "sleep", "1000")
	c.start(t)
	pid := strconv.Itoa(c.State().InitPid)
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if exe, err := os.Readlink("/proc/" + pid + "/exe"); err != nil || exe == self {
		t.Errorf("init's exe after start: %q (%v), still this test binary %q", exe, err, self)
	}
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "\nThreads:\t1\n") {
		t.Errorf("init after start is not the one-threaded program:\n%s", status)
	}
}

// TestConcurrentStartsOneWins: two starts of one created container; the
// one that gets the init's byte starts it, the other is told the container
// is no longer created.
func TestConcurrentStartsOneWins(t *testing.T) {
	c := testContainer(t, nil, "sleep", "1000")
	p := &libctr.Process{Process: c.proc}
	if err := c.Start(p); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other, err := c.factory.Load(c.ID())
			if err == nil {
				err = other.Exec()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, libctr.ErrBadState):
			t.Errorf("losing start: %v, want ErrBadState", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d starts succeeded (%v), want exactly one", ok, errs)
	}
	if st := c.Status(); st != libctr.Running {
		t.Fatalf("status %s", st)
	}
}

// TestProcessesJoinTheCgroups: the init and an exec'd process are in the
// container's cgroup in every hierarchy (they move themselves there on
// cgroup v1), and the exec helper that waits for the exec'd process is not.
func TestProcessesJoinTheCgroups(t *testing.T) {
	c := testContainer(t, nil, "sleep", "1000")
	c.start(t)
	p := &libctr.Process{Process: configs.Process{Args: []string{"sleep", "1000"}, Env: []string{"PATH=/bin"}, Cwd: "/"}}
	if err := c.Enter(p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Signal(os.Kill)
		_, _ = p.Wait()
	})
	path := c.Config().Cgroups.Path
	for _, pid := range []int{c.State().InitPid, p.Pid()} {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 || strings.HasPrefix(parts[1], "name=") {
				continue // named hierarchies (systemd) are not the container's
			}
			if parts[1] == "" && !cgroups.IsV2() {
				continue // the hybrid's unified hierarchy is left alone
			}
			if parts[2] != path {
				t.Errorf("pid %d: %q, want cgroup %s", pid, line, path)
			}
		}
	}
	pids, err := c.Processes()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(pids)
	want := []int{c.State().InitPid, p.Pid()}
	slices.Sort(want)
	if !slices.Equal(pids, want) {
		t.Errorf("cgroup holds %v, want the init and the exec'd process %v", pids, want)
	}
}

// TestProgramGetsOnlyItsFds: the init's pipes, the exec fifo, the cgroup
// files and whatever the caller leaked without O_CLOEXEC (go test hands
// its test binary such a pipe) stay behind; the program, and an exec'd
// one, start with fds 0-2 only (ls's own directory fd is the 3 it lists).
func TestProgramGetsOnlyItsFds(t *testing.T) {
	c := testContainer(t, nil, "sh", "-c", "ls /proc/self/fd; exec sleep 1000")
	_, out, _ := c.start(t)
	eventually(t, "init lists its fds", func() bool { return strings.Contains(out.String(), "\n") })
	if got := strings.Fields(out.String()); !slices.Equal(got, []string{"0", "1", "2", "3"}) {
		t.Errorf("init's program has fds %v, want 0 1 2 (and ls's 3)", got)
	}
	var eout strings.Builder
	p := &libctr.Process{Process: configs.Process{Args: []string{"ls", "/proc/self/fd"}, Env: []string{"PATH=/bin"}, Cwd: "/"}, Stdout: &eout}
	enter(t, c, p)
	if got := strings.Fields(eout.String()); !slices.Equal(got, []string{"0", "1", "2", "3"}) {
		t.Errorf("exec'd program has fds %v, want 0 1 2 (and ls's 3)", got)
	}
}

// TestProcessUserAndGroups: the program (and an exec'd one) runs with the
// spec's uid, gid and additional groups, in every one of its ids (the
// init changes its own thread's credentials, which execve passes on).
func TestProcessUserAndGroups(t *testing.T) {
	c := testContainer(t, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{10, 20}}
		s.Process.Capabilities = nil // an unprivileged user keeps none anyway
	}, "sh", "-c", "grep -E '^(Uid|Gid|Groups):' /proc/self/status; exec sleep 1000")
	_, out, _ := c.start(t)
	want := "Uid:\t1000\t1000\t1000\t1000\nGid:\t1001\t1001\t1001\t1001\nGroups:\t10 20 \n"
	eventually(t, "init reports its ids", func() bool { return strings.Count(out.String(), "\n") >= 3 })
	if got := out.String(); got != want {
		t.Errorf("init's program ids:\n%q\nwant\n%q", got, want)
	}
	var eout strings.Builder
	p := &libctr.Process{Process: configs.Process{Args: []string{"grep", "-E", "^(Uid|Gid|Groups):", "/proc/self/status"},
		Env: []string{"PATH=/bin"}, Cwd: "/", UID: 1000, GID: 1001, AdditionalGids: []uint32{10, 20}}, Stdout: &eout}
	enter(t, c, p)
	if got := eout.String(); got != want {
		t.Errorf("exec'd program's ids:\n%q\nwant\n%q", got, want)
	}
}
