package libctr_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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

// A container's processes get a session keyring of their own, as runc's
// do: "_ses.<id>", made by the init (both ways) and searchable by its uid,
// instead of sharing the runtime caller's and the keys in it.
func TestSessionKeyringOfItsOwn(t *testing.T) {
	initPaths(t, func(t *testing.T) string {
		// Looked for while the container runs: once its last process is
		// gone, the kernel collects the keyring.
		c := testContainer(t, nil, "sleep", "1000")
		p, _, _ := c.start(t)
		defer func() {
			_ = p.Signal(syscall.SIGKILL)
			_, _ = p.Wait()
		}()
		perm, ok := keyringPerm(t, "_ses."+c.ID())
		if !ok {
			t.Fatalf("no keyring _ses.%s in /proc/keys", c.ID())
		}
		if perm&0x80000 == 0 { // KEY_USR_SEARCH
			t.Errorf("keyring _ses.%s: perm %08x, want the uid's search bit", c.ID(), perm)
		}
		return "made"
	})
}

// An exec joins the container's session keyring without changing it: in a
// user namespace the exec is not the keyring's owner (the init, mapped to
// another host uid, made it), and only the owner may set its permissions.
// Both exec ways.
func TestExecJoinsTheKeyringInAUserNamespace(t *testing.T) {
	c := testContainer(t, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	}, "sleep", "1000")
	p, _, _ := c.start(t)
	defer func() {
		_ = p.Signal(syscall.SIGKILL)
		_, _ = p.Wait()
	}()
	// (The keyring, owned by the mapped uid, is not in this process's
	// /proc/keys: root may not view it.)
	execPaths(t, func(t *testing.T) string {
		var errb strings.Builder
		ex := &libctr.Process{Process: configs.Process{Args: []string{"true"}, Env: []string{"PATH=/bin"}, Cwd: "/"}, Stderr: &errb}
		if err := c.Enter(ex); err != nil {
			t.Fatalf("exec: %v", err)
		}
		st, err := ex.Wait()
		if err != nil || libctr.ExitCode(st) != 0 {
			t.Fatalf("exec: %v, exit %d, stderr %q", err, libctr.ExitCode(st), errb.String())
		}
		return "ran"
	})
}

// keyringPerm finds the keyring described as name in /proc/keys (this
// process, root, can view the containers' ones) and returns its perm.
func keyringPerm(t *testing.T, name string) (uint32, bool) {
	t.Helper()
	b, err := os.ReadFile("/proc/keys")
	if err != nil {
		t.Skipf("no /proc/keys: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		// id flags usage timeout perm uid gid type description: summary
		f := strings.Fields(line)
		if len(f) >= 9 && f[7] == "keyring" && strings.TrimSuffix(f[8], ":") == name {
			perm, err := strconv.ParseUint(f[4], 16, 32)
			return uint32(perm), err == nil
		}
	}
	return 0, false
}
