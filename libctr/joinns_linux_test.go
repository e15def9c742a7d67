package libctr_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/configs"
)

// TestJoinNamespacesByPath starts a second container that joins the
// first one's network and ipc namespaces (nsenter joins without forking),
// and a third that joins its pid namespace too (nsenter forks, so the
// third's init is not pid 1 but a sibling in the first one's namespace).
func TestJoinNamespacesByPath(t *testing.T) {
	a := testContainer(t, nil, "sleep", "1000")
	a.start(t)
	apid := a.State().InitPid
	nsPath := func(n string) string { return fmt.Sprintf("/proc/%d/ns/%s", apid, n) }
	want := func(n string) string {
		l, err := os.Readlink(nsPath(n))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	join := func(types ...specs.LinuxNamespaceType) func(*specs.Spec) {
		return func(s *specs.Spec) {
			for i, ns := range s.Linux.Namespaces {
				for _, typ := range types {
					if ns.Type == typ {
						s.Linux.Namespaces[i].Path = nsPath(map[specs.LinuxNamespaceType]string{
							specs.NetworkNamespace: "net", specs.IPCNamespace: "ipc", specs.PIDNamespace: "pid"}[typ])
					}
				}
			}
		}
	}
	script := "for n in net ipc pid; do readlink /proc/self/ns/$n; done; echo $$"

	b := testContainer(t, join(specs.NetworkNamespace, specs.IPCNamespace), "sh", "-c", script)
	out, errOut, code := b.run(t)
	lines := strings.Fields(out)
	if code != 0 || len(lines) != 4 || lines[0] != want("net") || lines[1] != want("ipc") || lines[2] == want("pid") || lines[3] != "1" {
		t.Fatalf("net+ipc join: exit %d %q %q", code, out, errOut)
	}

	c := testContainer(t, join(specs.NetworkNamespace, specs.PIDNamespace), "sh", "-c", script)
	p, outb, errb := c.start(t)
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "third container stops", func() bool { return c.Status() == libctr.Stopped })
	lines = strings.Fields(outb.String())
	if len(lines) != 4 || lines[0] != want("net") || lines[2] != want("pid") || lines[3] == "1" {
		t.Fatalf("pid join: %q %q", outb.String(), errb.String())
	}
}

// TestNoMountNamespaceChrootsOnly: a container that shares the host's
// mount namespace is chrooted into its rootfs and mounts nothing: no /proc
// inside, and (checked by testContainer's cleanup) no host mount below the
// rootfs. Comparing the whole host mount table would race other tests.
func TestNoMountNamespaceChrootsOnly(t *testing.T) {
	c := testContainer(t, func(s *specs.Spec) {
		s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.UTSNamespace}, {Type: specs.IPCNamespace}}
	}, "sh", "-c", "ls /bin/busybox; hostname; ls /proc | wc -l")
	out, errOut, code := c.run(t)
	lines := strings.Fields(out)
	if code != 0 || len(lines) != 3 || lines[0] != "/bin/busybox" || lines[1] != "wharf-test" || lines[2] != "0" {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errOut)
	}
	// An exec'd process gets the same root.
	c2 := testContainer(t, func(s *specs.Spec) {
		s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.UTSNamespace}}
	}, "sleep", "1000")
	c2.start(t)
	var buf syncBuffer
	p := &libctr.Process{Process: configs.Process{Args: []string{"cat", "/etc/hostname"}, Env: []string{"PATH=/bin"}, Cwd: "/"}, Stdout: &buf, Stderr: &buf}
	if code := enter(t, c2, p); code != 0 || buf.String() != "rootfstest\n" {
		t.Errorf("exec: exit %d %q", code, buf.String())
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil || strings.Contains(string(mi), c.rootfs) {
		t.Errorf("host mount table mentions the rootfs (%v)", err)
	}
}

// TestJoinMissingNamespaceFails: a namespace path that does not exist is
// reported by the nsenter constructor as a one-line error, and nothing is
// left behind.
func TestJoinMissingNamespaceFails(t *testing.T) {
	c := testContainer(t, func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = "/proc/999999999/ns/net"
			}
		}
	}, "true")
	err := c.Start(&libctr.Process{Process: c.proc})
	if err == nil || !strings.Contains(err.Error(), "/proc/999999999/ns/net") {
		t.Fatalf("start: %v", err)
	}
}

// TestTimeNamespaceOffsets: a new time namespace moves the container's
// boottime clock (and an exec'd process joins it).
func TestTimeNamespaceOffsets(t *testing.T) {
	c := testContainer(t, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 1000000}}
	}, "sh", "-c", "cut -d. -f1 /proc/uptime; exec sleep 1000")
	_, out, _ := c.start(t)
	eventually(t, "uptime printed", func() bool { return strings.HasSuffix(out.String(), "\n") })
	up, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil || up < 1000000 {
		t.Fatalf("uptime in the container %q (%v)", out.String(), err)
	}
	var buf syncBuffer
	p := &libctr.Process{Process: configs.Process{Args: []string{"cut", "-d.", "-f1", "/proc/uptime"}, Env: []string{"PATH=/bin"}, Cwd: "/"}, Stdout: &buf}
	enter(t, c, p)
	if n, err := strconv.Atoi(strings.TrimSpace(buf.String())); err != nil || n < 1000000 {
		t.Errorf("uptime in an exec'd process %q (%v)", buf.String(), err)
	}
}
