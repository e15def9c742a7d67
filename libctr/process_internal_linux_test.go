package libctr

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// awaitExit waits in the runtime's poller: thirty goroutines waiting for
// thirty children take no thread each (a blocking waitid would), and all
// return once the children are gone, whether they exited before or after
// the call.
func TestAwaitExitHoldsNoThread(t *testing.T) {
	const n = 30
	var cmds []*exec.Cmd
	t.Cleanup(func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})
	for i := 0; i < n; i++ {
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
	awaitExit(early.Process.Pid) // exited before (or while) it looks
	if err := early.Wait(); err != nil {
		t.Fatal(err)
	}

	before := threads(t)
	var wg sync.WaitGroup
	for _, c := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			awaitExit(c.Process.Pid)
		}()
	}
	time.Sleep(200 * time.Millisecond) // sysmon hands a P blocked in a syscall on after 10 ms
	if after := threads(t); after-before >= n/2 {
		t.Errorf("%d threads while %d goroutines wait (%d before): the waits hold threads", after, n, before)
	}
	for _, c := range cmds {
		_ = c.Process.Kill()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("awaitExit did not return after the children were killed")
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
