package libctr_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wharf-project/wharf/libctr"
)

// A monitored container outlives its starter: the output it writes while
// nobody reads stays in the pipe the monitor holds, even after it exited
// (the monitor waits for an adopter when its starter is gone), and a
// process that loads and adopts the container gets that pipe and the exit
// code. (The starter here is the test, which lets go of its monitor; a
// daemon that died is the case this is for: integration/engine kills one.)
func TestMonitorHandsOverOutputAndExit(t *testing.T) {
	c := testContainer(t, nil, "sh", "-c", "trap 'echo two; exit 7' USR1; echo one; while :; do sleep 0.1; done")
	c.factory.Monitor = true
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &libctr.Process{Process: c.proc, Stdout: w}
	if err := c.Run(p); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := p.Hold(r); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil || line != "one\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	mon := c.State().MonitorPid
	if mon == 0 || mon == os.Getpid() {
		t.Fatalf("monitor pid %d", mon)
	}
	if ppid := parentOf(t, p.Pid()); ppid != mon {
		t.Errorf("the init's parent is %d, not the monitor %d", ppid, mon)
	}
	if cg := cgroupOf(t, mon); cg == cgroupOf(t, p.Pid()) {
		t.Errorf("the monitor is in the container's cgroup %s", cg)
	}
	// The starter goes: only the monitor holds the pipe now.
	r.Close()
	p.Release()
	if err := syscall.Kill(p.Pid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the init exits", func() bool { return syscall.Kill(p.Pid(), 0) != nil })
	if isZombie(mon) {
		t.Fatal("the monitor exited without an adopter: the output it held is lost")
	}

	f2, err := libctr.New(c.factory.Root)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := f2.Load(c.ID())
	if err != nil {
		t.Fatal(err)
	}
	a, err := c2.Adopt()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Pid() != p.Pid() || len(a.Files()) != 1 {
		t.Fatalf("adopted pid %d (want %d), %d files", a.Pid(), p.Pid(), len(a.Files()))
	}
	rest, err := io.ReadAll(a.Files()[0])
	a.Files()[0].Close()
	if err != nil || string(rest) != "two\n" {
		t.Errorf("output written while nobody read: %q, %v", rest, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code, err := a.Wait(ctx); err != nil || code != 7 {
		t.Errorf("adopted wait: %d, %v", code, err)
	}
	st, err := p.Wait() // the monitor, let go, exits with the init's code
	if err != nil || libctr.ExitCode(st) != 7 {
		t.Errorf("starter's wait: %v, %v", st, err)
	}
	// Once the monitor is gone, its record still answers.
	a2, err := c2.Adopt()
	if err != nil {
		t.Fatal(err)
	}
	if code, err := a2.Wait(ctx); err != nil || code != 7 || len(a2.Files()) != 0 {
		t.Errorf("adopt after the monitor went: %d, %v, %d files", code, err, len(a2.Files()))
	}
}

// A container started without a monitor cannot be adopted; one whose
// program cannot start fails its start with the init's error and leaves
// nothing behind (testContainer checks), monitor included.
func TestMonitorRefusals(t *testing.T) {
	plain := testContainer(t, nil, "true")
	plain.start(t)
	if _, err := plain.Adopt(); !errors.Is(err, libctr.ErrNotSupported) {
		t.Errorf("adopt without a monitor: %v", err)
	}

	bad := testContainer(t, nil, "/no/such/program")
	bad.factory.Monitor = true
	p := &libctr.Process{Process: bad.proc}
	err := bad.Run(p)
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("start of a missing program: %v", err)
	}
	if mon := bad.State().MonitorPid; mon != 0 {
		eventually(t, "the monitor exits", func() bool { return syscall.Kill(mon, 0) != nil || isZombie(mon) })
	}
	_, _ = p.Wait()
}

func parentOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return f[0] == "Z"
}

// cgroupOf is the process's memory (v1) or unified (v2) cgroup.
func cgroupOf(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) == 3 && (strings.Contains(parts[1], "memory") || parts[0] == "0") {
			return parts[2]
		}
	}
	return ""
}
