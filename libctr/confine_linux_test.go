package libctr_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/libctr"
)

func TestPauseResumeFreezes(t *testing.T) {
	// Builtins only: the loop never forks, so the freezer never has to
	// catch a task halfway through a fork (a read may see the file just
	// truncated; two reads while frozen still agree).
	c := testContainer(t, nil, "sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/counter; done")
	c.start(t)
	counter := func() string {
		b, _ := os.ReadFile(filepath.Join(c.rootfs, "tmp/counter"))
		return string(b)
	}
	eventually(t, "counter starts", func() bool { return counter() != "" })
	// Wait until the program has been running long enough to be the loop,
	// not the init between the fifo and execve.
	eventually(t, "counter passes 100", func() bool {
		n, err := strconv.Atoi(strings.TrimSpace(counter()))
		return err == nil && n > 100
	})
	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st != libctr.Paused {
		t.Fatalf("status %s", st)
	}
	// Frozen means no progress at all: two reads some time apart agree.
	first := counter()
	time.Sleep(300 * time.Millisecond)
	if second := counter(); first != second {
		t.Fatalf("counter moved while paused: %q -> %q", first, second)
	}
	if err := c.Pause(); err == nil {
		t.Error("pausing a paused container succeeded")
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st != libctr.Running {
		t.Fatalf("status after resume %s", st)
	}
	eventually(t, "counter moves after resume", func() bool { return counter() != first })
}

func TestKillAllAndDestroyLeaveNoProcesses(t *testing.T) {
	c := testContainer(t, nil, "sh", "-c", "sleep 1000 & sleep 1000 & echo ready; wait")
	p, out, _ := c.start(t)
	eventually(t, "children started", func() bool {
		pids, _ := c.Processes()
		return strings.Contains(out.String(), "ready") && len(pids) == 3
	})
	pids, err := c.Processes()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Pause(); err != nil { // kill must work on a paused container too
		t.Fatal(err)
	}
	if err := c.Signal(syscall.SIGKILL, true); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "container stops", func() bool { return c.Status() == libctr.Stopped })
	paths := c.Cgroup().Paths()
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		eventually(t, fmt.Sprintf("pid %d gone", pid), func() bool {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			return err != nil || !strings.Contains(string(b), "sleep") && !strings.Contains(string(b), "(sh)")
		})
	}
	for _, dir := range paths {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s left", dir)
		}
	}
}

func TestUserNamespaceMapsRoot(t *testing.T) {
	c := testContainer(t, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	}, "sh", "-c", "id -u; cat /proc/self/uid_map; touch /tmp/made-inside; ls -ln /bin/busybox")
	out, errOut, code := c.run(t)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || lines[0] != "0" || strings.Join(strings.Fields(lines[1]), " ") != "0 100000 65536" {
		t.Fatalf("output %q", out)
	}
	// Host root is not mapped: its files show as the overflow id inside.
	if f := strings.Fields(lines[2]); len(f) < 4 || f[2] != "65534" {
		t.Errorf("busybox owner inside: %q", lines[2])
	}
	fi, err := os.Stat(filepath.Join(c.rootfs, "tmp/made-inside"))
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 100000 {
		t.Errorf("file made by container root belongs to host uid %d, want 100000", uid)
	}
}

// TestDefaultSpecConfines runs escape attempts under the example spec
// (Docker's default capabilities, masked and readonly paths, devices
// cgroup); each must fail.
func TestDefaultSpecConfines(t *testing.T) {
	attempts := map[string]string{
		"mount":         "mount -t tmpfs none /mnt",
		"proc-sys":      "echo 1 > /proc/sys/kernel/panic",
		"sys":           "echo x > /sys/kernel/uevent_helper",
		"cgroupfs":      "echo 1 > /sys/fs/cgroup/pids/pids.max",
		"mknod":         "mknod /tmp/sda b 8 0",
		"host-pid":      fmt.Sprintf("kill -0 %d", os.Getpid()), // the host's pids are not visible, so not ptrace-able
		"sysrq":         "echo h > /proc/sysrq-trigger",
		"kcore-or-keys": "cat /proc/keys | grep -q . ",
		"hostname":      "hostname evil",
		"chroot-escape": "chroot / true",
	}
	var script strings.Builder
	for name, cmd := range attempts {
		fmt.Fprintf(&script, "if (%s) >/dev/null 2>&1; then echo ESCAPED %s; fi\n", cmd, name)
	}
	script.WriteString("grep -E '^Cap(Eff|Bnd)|NoNewPrivs' /proc/self/status; ulimit -n\n")
	c := testContainer(t, func(s *specs.Spec) {
		s.Root.Readonly = true
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
	}, "sh", "-c", script.String())
	out, errOut, code := c.run(t)
	if code != 0 || strings.Contains(out, "ESCAPED") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// CAP_AUDIT_WRITE(29) | CAP_NET_BIND_SERVICE(10) | CAP_KILL(5): no
	// CAP_SYS_MODULE, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_MKNOD. (Loading a
	// module is checked through the capability only: this kernel, booted
	// with nomodule, refuses init_module to everyone.)
	for _, want := range []string{"CapEff:\t0000000020000420", "CapBnd:\t0000000020000420", "NoNewPrivs:\t1", "\n1024\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(c.rootfs, "tmp/sda")); err == nil {
		t.Error("device node made in the rootfs")
	}
}

// TestSeccompProfileEnforced installs a profile that allows everything
// but mkdir/mkdirat (EPERM) and the chown family with errno 38 (ENOSYS), with no_new_privs
// (filter loaded last) and without (loaded before capabilities drop).
func TestSeccompProfileEnforced(t *testing.T) {
	for _, nnp := range []bool{true, false} {
		t.Run(fmt.Sprintf("no_new_privs=%v", nnp), func(t *testing.T) {
			enosys := uint(38)
			c := testContainer(t, func(s *specs.Spec) {
				s.Process.NoNewPrivileges = nnp
				s.Linux.Seccomp = &specs.LinuxSeccomp{
					DefaultAction: specs.ActAllow,
					Architectures: []specs.Arch{specs.ArchX86_64},
					Syscalls: []specs.LinuxSyscall{
						{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno},
						{Names: []string{"chown", "fchown", "lchown", "fchownat"}, Action: specs.ActErrno, ErrnoRet: &enosys},
					},
				}
			}, "sh", "-c", "touch /tmp/file && echo touch-ok; mkdir /tmp/dir || echo mkdir-refused; chown 1 /tmp/file || echo chown-refused")
			out, errOut, code := c.run(t)
			if code != 0 || out != "touch-ok\nmkdir-refused\nchown-refused\n" ||
				!strings.Contains(errOut, "Operation not permitted") || !strings.Contains(errOut, "not implemented") {
				t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
			}
		})
	}
}

// TestDockerDefaultSeccompProfile runs a container under the profile the
// engine gives every container (moby's default, opened up by the
// container's capabilities): it compiles within the kernel's limits, loads,
// and ordinary work succeeds under it (unshare stays refused).
func TestDockerDefaultSeccompProfile(t *testing.T) {
	var spec *specs.Spec
	c := testContainer(t, func(s *specs.Spec) {
		spec = s
		sc, err := mobyseccomp.GetDefaultProfile(s)
		if err != nil {
			t.Fatal(err)
		}
		s.Linux.Seccomp = sc
	}, "sh", "-c", "echo hi > /tmp/f && cat /tmp/f && ls / >/dev/null && sleep 0 && unshare -m true || echo unshare-refused")
	out, errOut, code := c.run(t)
	if code != 0 || out != "hi\nunshare-refused\n" {
		t.Fatalf("exit %d stdout %q stderr %q (profile for caps %v)", code, out, errOut, spec.Process.Capabilities.Bounding)
	}
}

// TestDevicesCgroupRules grants CAP_MKNOD, so only the devices cgroup
// stands between the container and a disk: making a node for the first
// disk is refused ('m' access), making one for an allowed device works.
func TestDevicesCgroupRules(t *testing.T) {
	c := testContainer(t, func(s *specs.Spec) {
		caps := append(s.Process.Capabilities.Bounding, "CAP_MKNOD")
		s.Process.Capabilities.Bounding, s.Process.Capabilities.Effective, s.Process.Capabilities.Permitted = caps, caps, caps
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
	}, "sh", "-c", "mknod /tmp/sda b 8 0 || echo disk-refused; mknod /tmp/null c 1 3 && echo x > /tmp/null && echo null-ok")
	out, errOut, code := c.run(t)
	if code != 0 || out != "disk-refused\nnull-ok\n" || !strings.Contains(errOut, "not permitted") {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errOut)
	}
}
