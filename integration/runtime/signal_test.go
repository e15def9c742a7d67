package runtime

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestRunAndExecForwardSignals: a foreground run or exec passes the
// signals it gets on to the container's process (as runc does), whose
// trap then decides the exit code.
func TestRunAndExecForwardSignals(t *testing.T) {
	r := newRT(t)
	script := func(name string) string {
		return "trap 'exit 42' TERM; touch /tmp/" + name + "; while true; do sleep 0.05; done"
	}
	bundle, id := r.bundle(nil, "sh", "-c", script("run"))
	signalled := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(wharfBin, append([]string{"runtime", "--root", r.root}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The file appears once the program runs, and the CLI relays
		// signals before it lets the program run.
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(bundle, "rootfs/tmp", name)); err == nil {
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("%s: the program did not start within 30s", name)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		var ee *exec.ExitError
		if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 42 {
			t.Errorf("%s after SIGTERM: %v, want exit 42 from the container's trap", name, err)
		}
	}
	// The run waits and deletes; an exec goes into a second container.
	signalled("run", "run", "--bundle", bundle, id)
	r.assertGone(id)
	r.ok("run", "--detach", "--bundle", bundle, id)
	signalled("exec", "exec", id, "sh", "-c", script("exec"))
}
