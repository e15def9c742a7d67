package libctr_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/cgroups"
	"golang.org/x/sys/unix"
)

// initPaths runs f once with the C init plan and once with the Go init,
// which must be indistinguishable to the container's program and to the
// caller.
func initPaths(t *testing.T, f func(t *testing.T) string) {
	t.Helper()
	bothWays(t, "init-plan", libctr.UseInitPlan, f)
}

// mountIDs are the first two fields of a mountinfo line and the device
// numbers, which differ between any two containers.
var mountIDs = regexp.MustCompile(`(?m)^\d+ \d+ \d+:\d+ `)

// TestInitPlanSetsUpLikeTheGoInit: a container whose spec uses every
// part of the rootfs setup (bind mounts of a file and of a readonly
// directory reached through a symlink, a tmpfs with propagation flags,
// the cgroup mount, /dev with an extra device, hostname and domainname, a
// sysctl, masked and readonly paths, a readonly root) and of the process
// (user, groups, capabilities, rlimits, umask, cwd, HOME) looks the same
// from inside whichever init set it up.
func TestInitPlanSetsUpLikeTheGoInit(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "file"), []byte("bound\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(src, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "dir", "inside"), []byte("in dir\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	umask := uint32(0o027)
	script := `cat /proc/self/mountinfo; ls -ln /dev /dev/pts /dev/extra | grep -v '^total'; hostname; cat /proc/sys/kernel/domainname
cat /proc/sys/kernel/msgmax /etc/bound /mnt/ro/inside; cat /proc/kcore /proc/timer_list; ls /proc/acpi
touch /mnt/ro/x /proc/sys/kernel/x /tmp/y /scratch/z 2>&1
grep -E '^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status
umask; pwd; echo "$HOME"; ulimit -n; ls /proc/self/fd | tr '\n' ' '; echo; exit 3`
	initPaths(t, func(t *testing.T) string {
		c := testContainer(t, func(s *specs.Spec) {
			s.Root.Readonly = true
			s.Domainname = "example.org"
			s.Linux.Sysctl = map[string]string{"kernel.msgmax": "4096"}
			s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/does/not/exist")
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: "/etc/bound", Type: "bind", Source: filepath.Join(src, "file"), Options: []string{"bind"}},
				specs.Mount{Destination: "/mnt/link/ro", Type: "bind", Source: filepath.Join(src, "dir"), Options: []string{"rbind", "ro", "nosuid"}},
				specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"nodev", "size=1m", "rprivate"}},
				specs.Mount{Destination: "/evil/x", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
			)
			mode := os.FileMode(0o600)
			uid, gid := uint32(1000), uint32(1001)
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/extra/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: &uid, GID: &gid})
			s.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{10}, Umask: &umask}
			s.Process.Cwd = "/tmp"
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 1024}}
			s.Process.Env = []string{"PATH=/bin"}
		}, "sh", "-c", script)
		// /mnt/link is a symlink to /mnt: the bind lands on /mnt/ro.
		if err := os.MkdirAll(filepath.Join(c.rootfs, "mnt"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/mnt", filepath.Join(c.rootfs, "mnt", "link")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.rootfs, "etc", "passwd"), []byte("u:x:1000:1001::/home/u:/bin/sh\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// /evil climbs out of the rootfs, as far as it can: the mount on
		// /evil/x must land on <rootfs>/<escape>/x, never on the host's.
		escape := "wharf-escape-" + filepath.Base(c.rootfs)
		if err := os.Symlink("../../../../../../../../"+escape, filepath.Join(c.rootfs, "evil")); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if _, err := os.Lstat("/" + escape); err == nil {
				t.Errorf("the mount on /evil/x made /%s on the host", escape)
				_ = os.RemoveAll("/" + escape)
			}
		})
		cgroupMount := " /sys/fs/cgroup/memory ro," // v1: one bind mount per controller
		if cgroups.IsV2() {
			cgroupMount = " /sys/fs/cgroup ro,"
		}
		out, errb, code := c.run(t)
		if code != 3 {
			t.Fatalf("exit %d, want 3; stderr %q", code, errb)
		}
		for _, want := range []string{
			" /etc/bound rw,", " /mnt/ro ro,nosuid,", " /wharf-escape-", " /scratch rw,nodev,", " / ro,", cgroupMount,
			"crw-------    1 1000     1001       10, 229 ", "ptmx -> pts/ptmx", "\nwharf-test\nexample.org\n4096\nbound\nin dir\n",
			"touch: /mnt/ro/x: Read-only file system", "touch: /tmp/y: Read-only file system",
			"Uid:\t1000\t1000\t1000\t1000\n", "Groups:\t10 \n", "\n0027\n/tmp\n/home/u\n512\n0 1 2 3 \n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "/scratch/z") {
			t.Errorf("the tmpfs is not writable:\n%s", out)
		}
		// Times in ls and the mounts' ids differ between any two runs.
		out = regexp.MustCompile(`(?m) \w{3} +\d+ \d\d:\d\d `).ReplaceAllString(out, " <time> ")
		out = strings.ReplaceAll(out, c.rootfs, "<rootfs>")
		out = strings.ReplaceAll(out, escape, "<escape>")
		return mountIDs.ReplaceAllString(out, "")
	})
}

// TestInitPlanRefusesLikeTheGoInit: a container that cannot be set up (a
// bind mount's source is missing, a destination under a file or in a
// read-only mount; the program is missing) fails to start with the same
// message either way, and leaves nothing behind (the cleanup of
// testContainer checks).
func TestInitPlanRefusesLikeTheGoInit(t *testing.T) {
	mount := func(ms ...specs.Mount) func(*specs.Spec) {
		return func(s *specs.Spec) { s.Mounts = append(s.Mounts, ms...) }
	}
	readonly := specs.Mount{Destination: "/mnt/ro", Type: "bind", Source: t.TempDir(), Options: []string{"rbind", "ro"}}
	for _, tc := range []struct {
		name   string
		mutate func(*specs.Spec)
		want   string
	}{
		{"bind source", mount(specs.Mount{Destination: "/x", Type: "bind", Source: "/nonexistent/wharf", Options: []string{"bind"}}),
			"mount /nonexistent/wharf on /x: stat /nonexistent/wharf: no such file or directory"},
		{"under a file", mount(specs.Mount{Destination: "/bin/busybox/x", Type: "tmpfs", Source: "tmpfs"}),
			"mount tmpfs on /bin/busybox/x: resolve: not a directory"},
		{"in a readonly mount", mount(readonly, specs.Mount{Destination: "/mnt/ro/sub", Type: "tmpfs", Source: "tmpfs"}),
			"mount tmpfs on /mnt/ro/sub: mkdir: read-only file system"},
		{"program", func(s *specs.Spec) { s.Process.Args = []string{"/nope"} },
			`exec: "/nope": stat /nope: no such file or directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			initPaths(t, func(t *testing.T) string {
				c := testContainer(t, tc.mutate, "true")
				p := &libctr.Process{Process: c.proc}
				err := c.Run(p)
				if err == nil {
					_, _ = p.Wait()
					t.Fatal("the container started")
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%v, want %q", err, tc.want)
				}
				return err.Error()
			})
		})
	}
}

// TestDevSymlinkStaysInTheRootfs: an image whose /dev is a symlink that
// the kernel, before pivot_root, would resolve on the host (through the
// host's /proc/self) gets its /dev links made inside the rootfs, where
// its mounts went; the host directory it points at is left alone, with
// the C plan and with the Go init.
func TestDevSymlinkStaysInTheRootfs(t *testing.T) {
	initPaths(t, func(t *testing.T) string {
		decoy := t.TempDir() // on the host
		if err := os.MkdirAll(filepath.Join(decoy, "pts"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"pts/ptmx", "ptmx"} {
			if err := os.WriteFile(filepath.Join(decoy, f), []byte("host"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		c := testContainer(t, nil, "sh", "-c", "readlink /dev/ptmx; ls /dev/pts")
		dev := filepath.Join(c.rootfs, "dev")
		if err := os.RemoveAll(dev); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/proc/self/../.."+decoy, dev); err != nil {
			t.Fatal(err)
		}
		// The container's own /dev, seen from inside.
		out, errb, code := c.run(t)
		if code != 0 || !strings.HasPrefix(out, "pts/ptmx\n") || !strings.Contains(strings.TrimPrefix(out, "pts/ptmx\n"), "ptmx") {
			t.Fatalf("inside: %q, stderr %q, exit %d", out, errb, code)
		}
		ents, err := os.ReadDir(decoy)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if b, err := os.ReadFile(filepath.Join(decoy, "ptmx")); err != nil || string(b) != "host" || len(names) != 2 {
			t.Errorf("the host directory changed: %v, ptmx %q (%v)", names, b, err)
		}
		return out + strings.Join(names, " ")
	})
}

// TestMountOnTheRootfsThenInside: a mount whose destination is "/" covers
// the rootfs, and the mounts after it go on top of it, where the container
// sees them, whichever init sets it up (the C init opens the rootfs anew
// after such a mount: its descriptor would lead under it).
func TestMountOnTheRootfsThenInside(t *testing.T) {
	initPaths(t, func(t *testing.T) string {
		c := testContainer(t, func(s *specs.Spec) {
			s.Root.Readonly = false
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: "/", Type: "bind", Source: s.Root.Path, Options: []string{"rbind"}},
				specs.Mount{Destination: "/mnt/after", Type: "tmpfs", Source: "tmpfs"})
		}, "sh", "-c", "touch /mnt/after/f && echo ok")
		out, errb, code := c.run(t)
		if code != 0 || out != "ok\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errb)
		}
		if _, err := os.Stat(filepath.Join(c.rootfs, "mnt", "after", "f")); err == nil {
			t.Errorf("the file went to the rootfs: the tmpfs at /mnt/after is under the mount on /, not on it")
		}
		return out
	})
}

// TestCgroupMountFlags: the v1 cgroup mount's flags, an atime mode
// included, reach every controller's bind, whichever init makes them.
func TestCgroupMountFlags(t *testing.T) {
	if cgroups.IsV2() {
		t.Skip("the v1 cgroup mount (a tmpfs of binds); this host runs cgroup v2 only")
	}
	initPaths(t, func(t *testing.T) string {
		c := testContainer(t, func(s *specs.Spec) {
			for i, m := range s.Mounts {
				if m.Type == "cgroup" {
					s.Mounts[i].Options = []string{"nosuid", "noexec", "nodev", "noatime", "ro"}
				}
			}
		}, "sh", "-c", "grep ' /sys/fs/cgroup/memory ' /proc/self/mountinfo")
		out, errb, code := c.run(t)
		if code != 0 {
			t.Fatalf("exit %d, stderr %q", code, errb)
		}
		f := strings.Fields(out)
		if len(f) < 6 {
			t.Fatalf("mountinfo line %q", out)
		}
		opts := strings.Split(f[5], ",")
		for _, want := range []string{"ro", "nosuid", "nodev", "noexec", "noatime"} {
			if !slices.Contains(opts, want) {
				t.Errorf("memory controller's bind has %s, want %s in it", f[5], want)
			}
		}
		return f[5]
	})
}

// TestRootfsPropagation: rootfsPropagation is applied to the new root
// whichever init sets it up, including the values for which the mount
// holding the rootfs must be made private before pivot_root (shared, and
// a non-recursive private: privateParent), and the default, which skips
// that step.
func TestRootfsPropagation(t *testing.T) {
	rootLine := regexp.MustCompile(`(?m)^\S+ \S+ \S+ \S+ / .*$`)
	// The directory holding the rootfs is made a shared mount on the host
	// first (a bind onto itself), so that each propagation shows: shared
	// gets a peer group, rslave makes the root a slave of the host's mount
	// (master:N: host mounts below the rootfs reach the container, as with
	// runc), private and the default (rprivate) neither.
	for _, tc := range []struct{ prop, want string }{{"shared", "shared:"}, {"private", ""}, {"rslave", "master:"}, {"", ""}} {
		t.Run("propagation="+tc.prop, func(t *testing.T) {
			initPaths(t, func(t *testing.T) string {
				c := testContainer(t, func(s *specs.Spec) {
					s.Linux.RootfsPropagation = tc.prop
					sharedBind(t, filepath.Dir(s.Root.Path))
				}, "cat", "/proc/self/mountinfo")
				out, errb, code := c.run(t)
				if code != 0 {
					t.Fatalf("exit %d; stderr %q", code, errb)
				}
				root := rootLine.FindString(out)
				if root == "" {
					t.Fatalf("no root mount in:\n%s", out)
				}
				for _, tag := range []string{"shared:", "master:"} {
					if has := strings.Contains(root, " "+tag); has != (tc.want == tag) {
						t.Errorf("root mount %q: %s %v, want %v", root, tag, has, tc.want == tag)
					}
				}
				root = strings.ReplaceAll(mountIDs.ReplaceAllString(root, ""), c.rootfs, "<rootfs>")
				return regexp.MustCompile(`(shared|master):\d+`).ReplaceAllString(root, "$1:N")
			})
		})
	}
}

// sharedBind makes dir a shared mount of its own on the host until the
// test ends.
func sharedBind(t *testing.T, dir string) {
	t.Helper()
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	if err := unix.Mount("", dir, "", unix.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
}
