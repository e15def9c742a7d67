package libctr

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// awaitExit waits in the runtime's poller: thirty goroutines waiting for
// thirty children take no thread each (a blocking waitid would), none
// returns before its child is gone, and all do once the children are
// killed, as does one for a child that exited before it looked.
func TestAwaitExitHoldsNoThread(t *testing.T) {
	if fd, err := unix.PidfdOpen(os.Getpid(), unix.O_NONBLOCK); err != nil {
		t.Skipf("no PIDFD_NONBLOCK here (%v): awaitExit returns at once", err)
	} else {
		unix.Close(fd)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const n = 30
	var cmds []*exec.Cmd
	t.Cleanup(func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})
	for range n {
		c := exec.Command("sleep", "60")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	early := exec.Command("true")
	if err := early.Start(); err != nil {
		t.Fatal(err)
	}
	within(t, func() { // exited before (or while) it looks
		if !awaitExit(early.Process.Pid) {
			t.Error("awaitExit of an exited child: false")
		}
	})
	if err := early.Wait(); err != nil {
		t.Fatal(err)
	}

	runtime.GC() // its workers' threads exist before the count
	before := threads(t)
	var returned atomic.Int32
	var wg sync.WaitGroup
	for _, c := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if awaitExit(c.Process.Pid) {
				returned.Add(1)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond) // sysmon hands a P blocked in a syscall on after 10 ms
	if after := threads(t); after-before >= n/2 {
		t.Errorf("%d threads while %d goroutines wait (%d before): the waits hold threads", after, n, before)
	}
	if r := returned.Load(); r != 0 {
		t.Errorf("%d waits returned while their children ran", r)
	}
	for _, c := range cmds {
		_ = c.Process.Kill()
	}
	within(t, wg.Wait)
	if r := returned.Load(); r != n {
		t.Errorf("%d of %d waits said their child had exited", r, n)
	}
}

// within runs f and fails the test if it has not returned in 10 s.
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting after 10 s")
	}
}

func threads(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatal("no Threads: line in /proc/self/status")
	return 0
}
