package container

import (
	"reflect"
	"strings"
	"testing"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	units "github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func testContainer(cfg *containertypes.Config, hc *containertypes.HostConfig) *Container {
	if cfg.Hostname == "" {
		cfg.Hostname = "0123456789ab"
	}
	setHostConfigDefaults(hc, cfg)
	hc.CgroupnsMode = "private"
	return &Container{ID: strings.Repeat("ab", 32), Config: cfg, HostConfig: hc, State: NewState(),
		MountPoints: map[string]*MountPoint{}, HostnamePath: "/c/hostname", HostsPath: "/c/hosts", ResolvConfPath: "/c/resolv.conf"}
}

func mustSpec(t *testing.T, c *Container, in specInput) *specs.Spec {
	t.Helper()
	if in.Rootfs == "" {
		in.Rootfs = "/c/rootfs"
	}
	if in.User.Home == "" {
		in.User.Home = "/root"
	}
	if in.Bounding == nil {
		in.Bounding = allCaps
	}
	s, err := buildSpec(c, in)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mountAt(s *specs.Spec, dst string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dst {
			return &s.Mounts[i]
		}
	}
	return nil
}

func TestSpecDefaults(t *testing.T) {
	c := testContainer(&containertypes.Config{Cmd: []string{"sh", "-c", "echo hi"}, Env: []string{"A=1"}}, &containertypes.HostConfig{})
	s := mustSpec(t, c, specInput{})
	if s.Version != specs.Version || s.Root.Path != "/c/rootfs" || s.Root.Readonly || s.Hostname != "0123456789ab" {
		t.Errorf("root/hostname: %+v %q", s.Root, s.Hostname)
	}
	p := s.Process
	if !reflect.DeepEqual(p.Args, []string{"sh", "-c", "echo hi"}) || p.Cwd != "/" || p.Terminal || p.NoNewPrivileges {
		t.Errorf("process: %+v", p)
	}
	if want := []string{"PATH=" + defaultPath, "HOSTNAME=0123456789ab", "HOME=/root", "A=1"}; !reflect.DeepEqual(p.Env, want) {
		t.Errorf("env %q, want %q", p.Env, want)
	}
	if p.User.UID != 0 || p.User.GID != 0 || *p.OOMScoreAdj != 0 {
		t.Errorf("user %+v", p.User)
	}
	if !reflect.DeepEqual(p.Capabilities.Bounding, DefaultCapabilities) || !reflect.DeepEqual(p.Capabilities.Effective, DefaultCapabilities) ||
		!reflect.DeepEqual(p.Capabilities.Permitted, DefaultCapabilities) || len(p.Capabilities.Inheritable) != 0 || len(p.Capabilities.Ambient) != 0 {
		t.Errorf("caps %+v", p.Capabilities)
	}
	var ns []string
	for _, n := range s.Linux.Namespaces {
		if n.Path != "" {
			t.Errorf("namespace %s joins %s", n.Type, n.Path)
		}
		ns = append(ns, string(n.Type))
	}
	if strings.Join(ns, ",") != "mount,network,pid,ipc,uts,cgroup" {
		t.Errorf("namespaces %v", ns)
	}
	if s.Linux.CgroupsPath != "/wharf/"+c.ID {
		t.Errorf("cgroups path %q", s.Linux.CgroupsPath)
	}
	if !reflect.DeepEqual(s.Linux.MaskedPaths, defaultMaskedPaths) || !reflect.DeepEqual(s.Linux.ReadonlyPaths, defaultReadonlyPaths) {
		t.Errorf("masked %v readonly %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	r := s.Linux.Resources
	if r.Memory != nil || r.CPU != nil || r.Pids != nil || r.BlockIO != nil {
		t.Errorf("limits without asking: %+v", r)
	}
	if d := r.Devices; len(d) < 4 || d[0].Allow || d[0].Access != "rwm" || !d[3].Allow || *d[3].Major != 1 || *d[3].Minor != 3 {
		t.Errorf("device rules %+v", d)
	}
	if len(s.Linux.Devices) != 6 || s.Linux.Devices[0].Path != "/dev/null" {
		t.Errorf("devices %+v", s.Linux.Devices)
	}
	var dsts []string
	for _, m := range s.Mounts {
		dsts = append(dsts, m.Destination)
	}
	if want := "/proc,/dev,/dev/pts,/sys,/sys/fs/cgroup,/dev/mqueue,/dev/shm,/etc/resolv.conf,/etc/hostname,/etc/hosts"; strings.Join(dsts, ",") != want {
		t.Errorf("mounts %s\nwant   %s", strings.Join(dsts, ","), want)
	}
	if m := mountAt(s, "/dev/shm"); m.Type != "tmpfs" || !reflect.DeepEqual(m.Options, []string{"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}) {
		t.Errorf("/dev/shm %+v", m)
	}
	if m := mountAt(s, "/sys"); !reflect.DeepEqual(m.Options, []string{"nosuid", "noexec", "nodev", "ro"}) {
		t.Errorf("/sys %+v", m)
	}
	if m := mountAt(s, "/etc/hosts"); m.Type != "bind" || m.Source != "/c/hosts" || !reflect.DeepEqual(m.Options, []string{"rbind", "rprivate"}) {
		t.Errorf("/etc/hosts %+v", m)
	}
}

func TestSpecResourcesAndSecurity(t *testing.T) {
	pids := int64(50)
	swappiness := int64(10)
	oomOff := true
	hc := &containertypes.HostConfig{
		Resources: containertypes.Resources{
			Memory: 64 << 20, MemoryReservation: 32 << 20, NanoCPUs: 1500000000, CPUShares: 512, CpusetCpus: "0",
			PidsLimit: &pids, MemorySwappiness: &swappiness, OomKillDisable: &oomOff, BlkioWeight: 300, CgroupParent: "mygroup",
			Ulimits: []*units.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}},
		},
		ShmSize: 1 << 20, ReadonlyRootfs: true, OomScoreAdj: 500, CapAdd: []string{"NET_ADMIN", "cap_sys_time"},
		CapDrop: []string{"CAP_MKNOD", "net_raw"}, Sysctls: map[string]string{"net.ipv4.ip_forward": "1"},
		SecurityOpt: []string{"no-new-privileges"},
	}
	c := testContainer(&containertypes.Config{Cmd: []string{"true"}, Tty: true, WorkingDir: "/work", Env: []string{"PATH=/bin", "HOME=/h"}}, hc)
	s := mustSpec(t, c, specInput{User: execUser{UID: 1000, GID: 100, Groups: []uint32{5, 6}, Home: "/home/u"}})
	m := s.Linux.Resources.Memory
	if *m.Limit != 64<<20 || *m.Swap != 128<<20 || *m.Reservation != 32<<20 || *m.Swappiness != 10 || !*m.DisableOOMKiller {
		t.Errorf("memory %+v", m)
	}
	cpu := s.Linux.Resources.CPU
	if *cpu.Period != 100000 || *cpu.Quota != 150000 || *cpu.Shares != 512 || cpu.Cpus != "0" {
		t.Errorf("cpu %+v", cpu)
	}
	if *s.Linux.Resources.Pids.Limit != 50 || *s.Linux.Resources.BlockIO.Weight != 300 {
		t.Errorf("pids/blkio %+v %+v", s.Linux.Resources.Pids, s.Linux.Resources.BlockIO)
	}
	if !reflect.DeepEqual(s.Process.Rlimits, []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 2048, Soft: 1024}}) {
		t.Errorf("rlimits %+v", s.Process.Rlimits)
	}
	if !s.Root.Readonly || *s.Process.OOMScoreAdj != 500 || !s.Process.NoNewPrivileges || s.Linux.Sysctl["net.ipv4.ip_forward"] != "1" {
		t.Errorf("readonly/oom/nnp/sysctl: %v %v %v %v", s.Root.Readonly, *s.Process.OOMScoreAdj, s.Process.NoNewPrivileges, s.Linux.Sysctl)
	}
	if s.Linux.CgroupsPath != "/mygroup/"+c.ID {
		t.Errorf("cgroups path %q", s.Linux.CgroupsPath)
	}
	if u := s.Process.User; u.UID != 1000 || u.GID != 100 || !reflect.DeepEqual(u.AdditionalGids, []uint32{5, 6}) {
		t.Errorf("user %+v", u)
	}
	if want := []string{"HOSTNAME=0123456789ab", "TERM=xterm", "PATH=/bin", "HOME=/h"}; !reflect.DeepEqual(s.Process.Env, want) || !s.Process.Terminal || s.Process.Cwd != "/work" {
		t.Errorf("env %q tty %v cwd %q", s.Process.Env, s.Process.Terminal, s.Process.Cwd)
	}
	caps := s.Process.Capabilities.Effective
	for _, want := range []string{"CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_CHOWN"} {
		if !inList(caps, want) {
			t.Errorf("missing %s in %v", want, caps)
		}
	}
	for _, gone := range []string{"CAP_MKNOD", "CAP_NET_RAW"} {
		if inList(caps, gone) {
			t.Errorf("%s not dropped: %v", gone, caps)
		}
	}
	if m := mountAt(s, "/dev/shm"); m.Options[len(m.Options)-1] != "size=1048576" {
		t.Errorf("/dev/shm %+v", m)
	}
	if m := mountAt(s, "/etc/resolv.conf"); !inList(m.Options, "ro") {
		t.Errorf("/etc files must be read-only with a read-only rootfs: %+v", m)
	}
}

func TestSpecPrivilegedAndNamespaces(t *testing.T) {
	hc := &containertypes.HostConfig{Privileged: true, CapDrop: []string{"CHOWN"}, NetworkMode: "host", PidMode: "host", IpcMode: "host", UTSMode: "host"}
	c := testContainer(&containertypes.Config{Cmd: []string{"true"}}, hc)
	c.HostConfig.CgroupnsMode = "host"
	bounding := []string{"CAP_CHOWN", "CAP_SYS_ADMIN"} // a host lacking most capabilities
	hostDev := []specs.LinuxDevice{{Path: "/dev/loop0", Type: "b", Major: 7}}
	s := mustSpec(t, c, specInput{Bounding: bounding, HostDevices: hostDev})
	if !reflect.DeepEqual(s.Process.Capabilities.Bounding, bounding) {
		t.Errorf("privileged caps must be the host's bounding set: %v", s.Process.Capabilities.Bounding)
	}
	if len(s.Linux.MaskedPaths) != 0 || len(s.Linux.ReadonlyPaths) != 0 {
		t.Errorf("privileged has masked/readonly paths: %v %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	if d := s.Linux.Resources.Devices; len(d) != 1 || !d[0].Allow || d[0].Access != "rwm" || !reflect.DeepEqual(s.Linux.Devices, hostDev) {
		t.Errorf("devices %+v %+v", d, s.Linux.Devices)
	}
	if m := mountAt(s, "/sys"); inList(m.Options, "ro") {
		t.Errorf("privileged /sys read-only: %v", m.Options)
	}
	if m := mountAt(s, "/dev/shm"); m.Type != "bind" || m.Source != "/dev/shm" {
		t.Errorf("ipc host /dev/shm %+v", m)
	}
	if len(s.Linux.Namespaces) != 1 || s.Linux.Namespaces[0].Type != specs.MountNamespace || s.Hostname != "" {
		t.Errorf("host namespaces: %+v hostname %q", s.Linux.Namespaces, s.Hostname)
	}
	// ALL: add starts from every capability of the host, drop from none.
	c = testContainer(&containertypes.Config{Cmd: []string{"true"}}, &containertypes.HostConfig{CapAdd: []string{"ALL"}, CapDrop: []string{"CHOWN"}})
	if got := mustSpec(t, c, specInput{Bounding: bounding}).Process.Capabilities.Bounding; !reflect.DeepEqual(got, bounding) {
		t.Errorf("cap-add ALL: %v", got)
	}
	c = testContainer(&containertypes.Config{Cmd: []string{"true"}}, &containertypes.HostConfig{CapAdd: []string{"kill"}, CapDrop: []string{"all"}})
	if got := mustSpec(t, c, specInput{}).Process.Capabilities.Bounding; !reflect.DeepEqual(got, []string{"CAP_KILL"}) {
		t.Errorf("cap-drop ALL: %v", got)
	}
}

func TestSpecUserMounts(t *testing.T) {
	hc := &containertypes.HostConfig{
		Binds:  []string{"/host/a:/a:ro", "vol:/data"},
		Tmpfs:  map[string]string{"/run": "size=1m,exec"},
		Mounts: []mount.Mount{{Type: mount.TypeTmpfs, Target: "/dev/shm", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 2048, Mode: 0o700}}},
	}
	c := testContainer(&containertypes.Config{Cmd: []string{"true"}}, hc)
	mps, err := mountPoints(hc, map[string]struct{}{"/image-vol": {}})
	if err != nil {
		t.Fatal(err)
	}
	c.MountPoints = mps
	s := mustSpec(t, c, specInput{Sources: map[string]string{"/data": "/vols/vol/_data", "/image-vol": "/vols/anon/_data"}})
	if m := mountAt(s, "/a"); m.Type != "bind" || m.Source != "/host/a" || !reflect.DeepEqual(m.Options, []string{"rbind", "ro", "rprivate"}) {
		t.Errorf("/a %+v", m)
	}
	if m := mountAt(s, "/data"); m.Source != "/vols/vol/_data" || !reflect.DeepEqual(m.Options, []string{"rbind", "rw", "rprivate"}) {
		t.Errorf("/data %+v", m)
	}
	if m := mountAt(s, "/image-vol"); m == nil || m.Source != "/vols/anon/_data" {
		t.Errorf("/image-vol %+v", m)
	}
	if m := mountAt(s, "/run"); m.Type != "tmpfs" || !reflect.DeepEqual(m.Options, []string{"exec", "nosuid", "nodev", "size=1m"}) {
		t.Errorf("/run %+v", m)
	}
	n := 0
	for _, m := range s.Mounts {
		if m.Destination == "/dev/shm" {
			n++
			if !reflect.DeepEqual(m.Options, []string{"noexec", "nosuid", "nodev", "size=2k", "mode=700"}) {
				t.Errorf("/dev/shm replaced by --mount: %+v", m)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d mounts on /dev/shm", n)
	}
	// User mounts come after the defaults, parents first.
	if last := s.Mounts[len(s.Mounts)-1].Destination; last != "/image-vol" && last != "/dev/shm" {
		t.Errorf("order: last mount %s", last)
	}
}

func TestMergeTmpfsOptions(t *testing.T) {
	got := mergeTmpfsOptions([]string{"noexec", "nosuid", "size=1m", "exec", "size=2m", "mode=755"})
	if want := []string{"exec", "nosuid", "size=2m", "mode=755"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSpecSeccomp(t *testing.T) {
	c := testContainer(&containertypes.Config{Cmd: []string{"true"}}, &containertypes.HostConfig{})
	s := mustSpec(t, c, specInput{})
	if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno || len(s.Linux.Seccomp.Syscalls) == 0 {
		t.Fatalf("default profile: %+v", s.Linux.Seccomp)
	}
	allowed := func(s *specs.Spec, name string) bool {
		for _, sc := range s.Linux.Seccomp.Syscalls {
			if sc.Action == specs.ActAllow && inList(sc.Names, name) && len(sc.Args) == 0 {
				return true
			}
		}
		return false
	}
	if !allowed(s, "read") || allowed(s, "mount") {
		t.Errorf("default profile: read allowed %v, mount allowed %v", allowed(s, "read"), allowed(s, "mount"))
	}
	// CAP_SYS_ADMIN opens the syscalls it needs, as dockerd's profile does.
	c = testContainer(&containertypes.Config{Cmd: []string{"true"}}, &containertypes.HostConfig{CapAdd: []string{"SYS_ADMIN"}})
	if s := mustSpec(t, c, specInput{}); !allowed(s, "mount") {
		t.Error("CAP_SYS_ADMIN did not allow mount")
	}
	for _, hc := range []*containertypes.HostConfig{{SecurityOpt: []string{"seccomp=unconfined"}}, {Privileged: true}} {
		c = testContainer(&containertypes.Config{Cmd: []string{"true"}}, hc)
		if s := mustSpec(t, c, specInput{}); s.Linux.Seccomp != nil {
			t.Errorf("%+v: seccomp %+v", hc.SecurityOpt, s.Linux.Seccomp)
		}
	}
	c = testContainer(&containertypes.Config{Cmd: []string{"true"}}, &containertypes.HostConfig{SecurityOpt: []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chmod"],"action":"SCMP_ACT_ERRNO"}]}`}})
	if s := mustSpec(t, c, specInput{}); s.Linux.Seccomp.DefaultAction != specs.ActAllow || len(s.Linux.Seccomp.Syscalls) != 1 {
		t.Errorf("custom profile: %+v", s.Linux.Seccomp)
	}
	c = testContainer(&containertypes.Config{Cmd: []string{"true"}}, &containertypes.HostConfig{SecurityOpt: []string{"seccomp={bad"}})
	if _, err := buildSpec(c, specInput{Bounding: allCaps}); err == nil {
		t.Error("a bad profile was accepted")
	}
}
