package libctr

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/libctr/configs"
)

func testPlan() *criuPlan {
	return &criuPlan{
		InitPid:         42,
		Rootfs:          "/b/rootfs",
		CgroupPath:      "/wharf/c1",
		FreezerDir:      "/sys/fs/cgroup/freezer/wharf/c1",
		DumpControllers: []string{"cpu,cpuacct", "memory"},
		Mounts:          []extMount{{Dest: "/etc/hosts", Source: "/b/hosts"}, {Dest: "/proc/kcore", Source: "/dev/null"}},
		Stdio:           []string{"file[18:3]", "pipe:[1001]", "tty[8800:15]"},
	}
}

func TestCriuDumpArgs(t *testing.T) {
	got := testPlan().dumpArgs(&CriuOpts{ImagesDir: "/img", LeaveRunning: true, TCPEstablished: true, FileLocks: true})
	want := []string{"dump", "--tree", "42",
		"--images-dir", "/img", "--work-dir", "/img", "--log-file", "dump.log", "-v4", "--root", "/b/rootfs",
		"--manage-cgroups=soft", "--tcp-established", "--file-locks",
		"--leave-running", "--freeze-cgroup", "/sys/fs/cgroup/freezer/wharf/c1",
		"--cgroup-dump-controller", "cpu,cpuacct", "--cgroup-dump-controller", "memory",
		"--ext-mount-map", "/etc/hosts:/etc/hosts", "--ext-mount-map", "/proc/kcore:/proc/kcore",
		"--external", "file[18:3]", "--external", "tty[8800:15]"}
	if !slices.Equal(got, want) {
		t.Errorf("dump args\n got %q\nwant %q", got, want)
	}
	got = testPlan().dumpArgs(&CriuOpts{ImagesDir: "/img", WorkDir: "/work", ExtUnixSk: true, ShellJob: true, ManageCgroupsMode: "full"})
	for _, pair := range [][2]string{{"--work-dir", "/work"}} {
		if i := slices.Index(got, pair[0]); i < 0 || got[i+1] != pair[1] {
			t.Errorf("dump args %q lack %s %s", got, pair[0], pair[1])
		}
	}
	for _, flag := range []string{"--ext-unix-sk", "--shell-job", "--manage-cgroups=full"} {
		if !slices.Contains(got, flag) {
			t.Errorf("dump args %q lack %s", got, flag)
		}
	}
	if slices.Contains(got, "--leave-running") {
		t.Errorf("dump args %q leave running unasked", got)
	}
}

func TestCriuRestoreArgs(t *testing.T) {
	p := testPlan()
	got := p.restoreArgs(&CriuOpts{ImagesDir: "/img", WorkDir: "/work", ShellJob: true}, []string{"file[18:3]", "pipe:[1001]"}, 3, "/work/restore.pid")
	want := []string{"restore",
		"--images-dir", "/img", "--work-dir", "/work", "--log-file", "restore.log", "-v4", "--root", "/b/rootfs",
		"--manage-cgroups=soft", "--shell-job",
		"--restore-detached", "--restore-sibling", "--pidfile", "/work/restore.pid", "--cgroup-root", "/wharf/c1",
		"--ext-mount-map", "/etc/hosts:/b/hosts", "--ext-mount-map", "/proc/kcore:/dev/null",
		"--inherit-fd", "fd[3]:file[18:3]", "--inherit-fd", "fd[4]:pipe:[1001]"}
	if !slices.Equal(got, want) {
		t.Errorf("restore args\n got %q\nwant %q", got, want)
	}
}

func TestCriuExternalMounts(t *testing.T) {
	cfg := &configs.Config{
		Cgroups:    &configs.Cgroup{Path: "/wharf/c1"},
		Namespaces: configs.Namespaces{{Type: configs.NEWNS}, {Type: configs.NEWUSER}},
		Mounts: []configs.Mount{
			{Source: "proc", Destination: "/proc", Device: "proc"},
			{Source: "/host/data", Destination: "/data", Device: "bind"},
			{Source: "cgroup", Destination: "/sys/fs/cgroup", Device: "cgroup"},
		},
		Devices: []configs.Device{{Type: 'c', Path: "/dev/null", Major: 1, Minor: 3}},
	}
	v1 := map[string]string{"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids"}
	got := criuExternalMounts(cfg, v1, []string{"/proc/kcore"})
	want := []extMount{
		{"/data", "/host/data"},
		{"/dev/null", "/dev/null"}, // a device bound in from the host (user namespace)
		{"/proc/kcore", "/dev/null"},
		{"/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/wharf/c1"},
		{"/sys/fs/cgroup/pids", "/sys/fs/cgroup/pids/wharf/c1"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("v1 externals\n got %v\nwant %v", got, want)
	}
	// cgroup v2: a bind of the container's directory without a cgroup
	// namespace, a real cgroup2 mount (criu's own business) with one.
	cfg.Namespaces = configs.Namespaces{{Type: configs.NEWNS}}
	cfg.Mounts = cfg.Mounts[2:]
	if got := criuExternalMounts(cfg, nil, nil); !slices.Equal(got, []extMount{{"/sys/fs/cgroup", "/sys/fs/cgroup/wharf/c1"}}) {
		t.Errorf("v2 externals: %v", got)
	}
	cfg.Namespaces = append(cfg.Namespaces, configs.Namespace{Type: configs.NEWCGROUP})
	if got := criuExternalMounts(cfg, nil, nil); len(got) != 0 {
		t.Errorf("v2 with a cgroup namespace: %v", got)
	}
}

func TestCriuOptsValidate(t *testing.T) {
	for _, o := range []*CriuOpts{nil, {}, {ImagesDir: "/img", ManageCgroupsMode: "props"}} {
		if err := o.validate(); !errors.Is(err, configs.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", o, err)
		}
	}
	if err := (&CriuOpts{ImagesDir: "/img", ManageCgroupsMode: "props"}).validate(); !strings.Contains(err.Error(), "manage cgroups mode") {
		t.Errorf("error does not name the option: %v", err)
	}
	if err := (&CriuOpts{ImagesDir: "/img", ManageCgroupsMode: "strict"}).validate(); err != nil {
		t.Error(err)
	}
}

func TestCriuReason(t *testing.T) {
	log := `(00.01) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted
(00.12) Error (criu/cr-dump.c:1681): A session leader of 24747(1) is outside of its pid namespace
(00.34) Error (criu/cr-dump.c:2128): Dumping FAILED.
`
	if got := criuReason([]byte(log)); got != "Error (criu/cr-dump.c:1681): A session leader of 24747(1) is outside of its pid namespace" {
		t.Errorf("reason %q", got)
	}
	check := `Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds
Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable
Error (criu/crtools.c:260): Could not initialize kernel features detection.
`
	if got := criuReason([]byte(check)); got != "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds" {
		t.Errorf("check reason %q", got)
	}
	if got := criuReason([]byte("Looks good.\n")); got != "Looks good." {
		t.Errorf("reason without errors %q", got)
	}
	if !criuInherited("pipe:[1]") || !criuInherited("file[1:2]") || criuInherited("/dev/null") {
		t.Error("criuInherited")
	}
}
