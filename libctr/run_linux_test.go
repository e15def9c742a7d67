package libctr_test

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/cgroups"
	"github.com/wharf-project/wharf/libctr/configs"
)

func TestRunExitCodeAndStdout(t *testing.T) {
	c := testContainer(t, nil, "sh", "-c", "echo hello; echo oops >&2; exit 3")
	out, errOut, code := c.run(t)
	if out != "hello\n" || errOut != "oops\n" || code != 3 {
		t.Fatalf("stdout %q stderr %q exit %d", out, errOut, code)
	}
}

// Once Wait has returned, Signal refuses: the program's pid may be another
// process's by then (a foreground relay's signal can come as it exits).
// Both for an init (its own child) and for an exec (reaped by the helper
// that joined the namespaces).
func TestSignalAfterWaitIsRefused(t *testing.T) {
	c := testContainer(t, nil, "sleep", "1000")
	p, _, _ := c.start(t)
	if err := p.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("signal 0 to the running init: %v", err)
	}
	ex := &libctr.Process{Process: configs.Process{Args: []string{"true"}, Env: []string{"PATH=/bin"}, Cwd: "/"}}
	if code := enter(t, c, ex); code != 0 {
		t.Fatalf("exec exit %d", code)
	}
	if err := ex.Signal(syscall.SIGTERM); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("Signal to the exec after Wait: %v, want os.ErrProcessDone", err)
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGTERM); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("Signal to the init after Wait: %v, want os.ErrProcessDone", err)
	}
}

func TestNamespacesIsolated(t *testing.T) {
	c := testContainer(t, nil, "sh", "-c", "hostname; echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; cat /proc/self/mountinfo")
	out, errOut, code := c.run(t)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.SplitN(out, "\n", 4)
	if len(lines) < 4 || lines[0] != "wharf-test" || lines[1] != "1" || lines[2] != "sh -c "+c.proc.Args[2]+" " {
		t.Fatalf("hostname/pid/cmdline: %q", lines[:3])
	}
	// The container's mount points are its own: the host's (such as the
	// test's temp dir, or /sys/fs/cgroup/unified) are not visible.
	points := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(lines[3]), "\n") {
		if f := strings.Fields(line); len(f) > 4 {
			points[f[4]] = true
		}
	}
	for p := range points {
		if strings.HasPrefix(p, "/tmp") || strings.HasPrefix(p, "/sys/fs/cgroup/unified") || strings.HasPrefix(p, "/mnt/") {
			t.Errorf("host mount point %s visible in the container", p)
		}
	}
	cgroupMount := "/sys/fs/cgroup/memory" // v1: one bind mount per controller
	if cgroups.IsV2() {
		cgroupMount = "/sys/fs/cgroup"
	}
	for _, want := range []string{"/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/sys", cgroupMount, "/proc/keys", "/proc/sys", "/sys/firmware"} {
		if !points[want] {
			t.Errorf("mount point %s missing: %v", want, points)
		}
	}
}
