package specconv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
)

func bundle(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestExampleConverts(t *testing.T) {
	dir := bundle(t)
	spec := Example()
	mem, pids := int64(64<<20), int64(10)
	spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem}
	spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
	c, p, err := ToConfig(spec, Options{ID: "c1", Bundle: dir})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.EvalSymlinks(filepath.Join(dir, "rootfs")); c.Rootfs != want || !c.Readonlyfs {
		t.Errorf("rootfs %q readonly %v, want %q readonly", c.Rootfs, c.Readonlyfs, want)
	}
	if c.Cgroups.Path != "/wharf/c1" || c.Cgroups.Resources.Memory != mem || c.Cgroups.Resources.PidsLimit != 10 {
		t.Errorf("cgroup %+v %+v", c.Cgroups, c.Cgroups.Resources)
	}
	if !c.Namespaces.Contains(configs.NEWPID) || c.Namespaces.Contains(configs.NEWUSER) {
		t.Errorf("namespaces %v", c.Namespaces)
	}
	if p.Args[0] != "sh" || p.Rlimits[0].Type != unix.RLIMIT_NOFILE || p.Rlimits[0].Hard != 1024 || !p.NoNewPrivileges {
		t.Errorf("process %+v", p)
	}
	var sys *configs.Mount
	for i := range c.Mounts {
		if c.Mounts[i].Destination == "/sys" {
			sys = &c.Mounts[i]
		}
	}
	if sys == nil || sys.Flags&unix.MS_RDONLY == 0 || sys.Flags&unix.MS_NOSUID == 0 || sys.Device != "sysfs" {
		t.Errorf("sys mount %+v", sys)
	}
	if rules := c.Cgroups.Resources.Devices; rules[0].Allow || rules[0].Type != 'a' || !rules[1].Allow {
		t.Errorf("device rules %+v", rules)
	}
}

func TestParseMountOptions(t *testing.T) {
	flags, cleared, prop, data := ParseMountOptions([]string{"rbind", "ro", "rw", "nosuid", "rprivate", "mode=755", "size=1k"})
	if flags != unix.MS_BIND|unix.MS_REC|unix.MS_NOSUID || cleared != unix.MS_RDONLY {
		t.Errorf("flags %#x cleared %#x", flags, cleared)
	}
	if len(prop) != 1 || prop[0] != unix.MS_PRIVATE|unix.MS_REC || data != "mode=755,size=1k" {
		t.Errorf("prop %v data %q", prop, data)
	}
}

func TestInvalidSpecs(t *testing.T) {
	dir := bundle(t)
	cases := map[string]func(*specs.Spec){
		"no process": func(s *specs.Spec) { s.Process = nil },
		"bad namespace": func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
		},
		"dup namespace": func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "pid"})
		},
		"bad cap":      func(s *specs.Spec) { s.Process.Capabilities.Bounding = []string{"CAP_NOPE"} },
		"bad rlimit":   func(s *specs.Spec) { s.Process.Rlimits[0].Type = "RLIMIT_NOPE" },
		"empty args":   func(s *specs.Spec) { s.Process.Args = nil },
		"relative cwd": func(s *specs.Spec) { s.Process.Cwd = "tmp" },
		"old version":  func(s *specs.Spec) { s.Version = "0.5.0" },
		"rel mount":    func(s *specs.Spec) { s.Mounts[0].Destination = "proc" },
		"userns no map": func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
		},
		"hostname no uts": func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: "mount"}}
		},
		"missing rootfs": func(s *specs.Spec) { s.Root.Path = "nope" },
		"offsets no timens": func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 1}}
		},
		"bad clock": func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 1}}
		},
	}
	for name, mutate := range cases {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			s := Example()
			mutate(s)
			if _, _, err := ToConfig(s, Options{ID: "x", Bundle: dir}); err == nil {
				t.Fatal("want an error")
			} else if name != "missing rootfs" && !errors.Is(err, configs.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
		})
	}
}

func TestValidateID(t *testing.T) {
	for _, id := range []string{"a", "abc-1.2_3+x"} {
		if err := configs.ValidateID(id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "a/b", "a b", "../x"} {
		if err := configs.ValidateID(id); err == nil {
			t.Errorf("%q accepted", id)
		}
	}
}
