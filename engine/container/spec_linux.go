package container

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// specInput is what buildSpec needs besides the record: where the rootfs
// is mounted, who the process runs as, the capabilities the host can give,
// and the host paths of the container's mounts.
type specInput struct {
	Rootfs   string
	User     execUser
	Bounding []string
	// Sources maps a mount point's destination to the host path to bind
	// (a volume's _data, a bind's source).
	Sources map[string]string
	// HostDevices are given to a privileged container.
	HostDevices []specs.LinuxDevice
}

// buildSpec makes the OCI runtime spec of a container with Docker's
// defaults (namespaces, capabilities, masked and read-only paths, /dev,
// /dev/shm, the device cgroup) and what its Config and HostConfig ask for.
// It reads nothing from disk: everything it needs is in c and in.
func buildSpec(c *Container, in specInput) (*specs.Spec, error) {
	cfg, hc := c.Config, c.HostConfig
	argv := append(append([]string(nil), cfg.Entrypoint...), cfg.Cmd...)
	if len(argv) == 0 {
		return nil, errInvalidf("No command specified")
	}
	cwd := cfg.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	caps := tweakCaps(in.Bounding, hc.CapAdd, hc.CapDrop, hc.Privileged)
	s := &specs.Spec{
		Version:    specs.Version,
		Root:       &specs.Root{Path: in.Rootfs, Readonly: hc.ReadonlyRootfs},
		Hostname:   cfg.Hostname,
		Domainname: cfg.Domainname,
		Process: &specs.Process{
			Terminal: cfg.Tty,
			Args:     argv,
			Env:      processEnv(cfg, in.User.Home),
			Cwd:      cwd,
			User:     specs.User{UID: in.User.UID, GID: in.User.GID, AdditionalGids: in.User.Groups},
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			OOMScoreAdj: &hc.OomScoreAdj,
		},
		Linux: &specs.Linux{
			Namespaces:  namespaces(hc),
			CgroupsPath: cgroupsPath(hc.CgroupParent, c.ID),
			Sysctl:      copyMap(hc.Sysctls),
			Resources:   resources(hc),
		},
	}
	if hc.UTSMode.IsHost() {
		s.Hostname, s.Domainname = "", ""
	}
	for _, o := range hc.SecurityOpt {
		if o == "no-new-privileges" || o == "no-new-privileges=true" || o == "no-new-privileges:true" {
			s.Process.NoNewPrivileges = true
		}
	}
	for _, u := range hc.Ulimits {
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: rlimitNames[u.Name], Hard: uint64(u.Hard), Soft: uint64(u.Soft)})
	}
	if hc.Privileged {
		s.Linux.Devices = in.HostDevices
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	} else {
		s.Linux.Devices = defaultDevices()
		s.Linux.MaskedPaths = nonNilStrings(hc.MaskedPaths)
		s.Linux.ReadonlyPaths = nonNilStrings(hc.ReadonlyPaths)
	}
	if err := applySeccomp(s, hc); err != nil {
		return nil, err
	}
	mounts, err := specMounts(c, in)
	if err != nil {
		return nil, err
	}
	s.Mounts = mounts
	return s, nil
}

// applySeccomp sets Docker's default seccomp profile (from
// github.com/moby/profiles/seccomp, which opens the syscalls the
// container's capabilities need), or the profile given with
// --security-opt seccomp=<json>; seccomp=unconfined and --privileged run
// without one.
func applySeccomp(s *specs.Spec, hc *containertypes.HostConfig) error {
	profile := ""
	for _, o := range hc.SecurityOpt {
		k, v, ok := strings.Cut(o, "=")
		if !ok {
			k, v, _ = strings.Cut(o, ":")
		}
		if k == "seccomp" {
			profile = v
		}
	}
	switch {
	case profile == "unconfined" || (hc.Privileged && profile == ""):
		return nil
	case profile == "" || profile == "builtin":
		sc, err := seccomp.GetDefaultProfile(s)
		if err != nil {
			return errdefs.System(fmt.Errorf("default seccomp profile: %w", err))
		}
		s.Linux.Seccomp = sc
	default:
		sc, err := seccomp.LoadProfile(profile, s)
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		s.Linux.Seccomp = sc
	}
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return append([]string(nil), s...)
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// processEnv is dockerd's environment: PATH (when the config has none),
// HOSTNAME, TERM=xterm with a tty, HOME from passwd (when unset), then the
// config's Env, which wins.
func processEnv(cfg *containertypes.Config, home string) []string {
	has := func(k string) bool {
		for _, e := range cfg.Env {
			if name, _, _ := strings.Cut(e, "="); name == k {
				return true
			}
		}
		return false
	}
	var env []string
	if !has("PATH") {
		env = append(env, "PATH="+defaultPath)
	}
	env = append(env, "HOSTNAME="+cfg.Hostname)
	if cfg.Tty {
		env = append(env, "TERM=xterm")
	}
	if !has("HOME") {
		env = append(env, "HOME="+home)
	}
	// The config's values replace earlier ones of the same name.
	for _, e := range cfg.Env {
		k, _, _ := strings.Cut(e, "=")
		replaced := false
		for i, old := range env {
			if ok, _, _ := strings.Cut(old, "="); ok == k {
				env[i], replaced = e, true
				break
			}
		}
		if !replaced {
			env = append(env, e)
		}
	}
	return env
}

func namespaces(hc *containertypes.HostConfig) []specs.LinuxNamespace {
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	if !hc.NetworkMode.IsHost() {
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	}
	if !hc.PidMode.IsHost() {
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace})
	}
	if !hc.IpcMode.IsHost() {
		ns = append(ns, specs.LinuxNamespace{Type: specs.IPCNamespace})
	}
	if !hc.UTSMode.IsHost() {
		ns = append(ns, specs.LinuxNamespace{Type: specs.UTSNamespace})
	}
	if hc.CgroupnsMode.IsPrivate() {
		ns = append(ns, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	return ns
}

// cgroupsPath is /wharf/<id>, or <parent>/<id> with --cgroup-parent.
func cgroupsPath(parent, id string) string {
	if parent == "" {
		parent = "/wharf"
	}
	if !strings.HasPrefix(parent, "/") {
		parent = "/" + parent
	}
	return path.Join(parent, id)
}

// resources turns HostConfig limits into cgroup settings: --cpus becomes a
// quota over a 100 ms period, as dockerd does.
func resources(hc *containertypes.HostConfig) *specs.LinuxResources {
	r := hc.Resources
	out := &specs.LinuxResources{Devices: defaultDeviceRules()}
	mem := &specs.LinuxMemory{}
	if r.Memory > 0 {
		mem.Limit = i64(r.Memory)
	}
	if r.MemorySwap != 0 {
		mem.Swap = i64(r.MemorySwap)
	}
	if r.MemoryReservation > 0 {
		mem.Reservation = i64(r.MemoryReservation)
	}
	if r.MemorySwappiness != nil && *r.MemorySwappiness >= 0 {
		v := uint64(*r.MemorySwappiness)
		mem.Swappiness = &v
	}
	if r.OomKillDisable != nil && *r.OomKillDisable {
		t := true
		mem.DisableOOMKiller = &t
	}
	if *mem != (specs.LinuxMemory{}) {
		out.Memory = mem
	}
	cpu := &specs.LinuxCPU{Cpus: r.CpusetCpus, Mems: r.CpusetMems}
	if r.CPUShares > 0 {
		v := uint64(r.CPUShares)
		cpu.Shares = &v
	}
	if r.NanoCPUs > 0 {
		period := uint64(100000)
		cpu.Period = &period
		cpu.Quota = i64(r.NanoCPUs * 100000 / 1e9)
	} else {
		if r.CPUPeriod > 0 {
			v := uint64(r.CPUPeriod)
			cpu.Period = &v
		}
		if r.CPUQuota != 0 {
			cpu.Quota = i64(r.CPUQuota)
		}
	}
	if cpu.Shares != nil || cpu.Quota != nil || cpu.Period != nil || cpu.Cpus != "" || cpu.Mems != "" {
		out.CPU = cpu
	}
	if r.PidsLimit != nil && *r.PidsLimit > 0 {
		out.Pids = &specs.LinuxPids{Limit: i64(*r.PidsLimit)}
	}
	if r.BlkioWeight > 0 {
		w := r.BlkioWeight
		out.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
	return out
}

// specMounts is Docker's default filesystem (/proc, /dev, /dev/pts, /sys,
// /sys/fs/cgroup, /dev/mqueue, /dev/shm), the /etc files, --tmpfs, and the
// container's mount points, parents first. A user mount replaces a default
// one on the same destination (and one on /dev replaces all of /dev's).
func specMounts(c *Container, in specInput) ([]specs.Mount, error) {
	hc := c.HostConfig
	sysOpts := []string{"nosuid", "noexec", "nodev", "ro"}
	cgOpts := []string{"ro", "nosuid", "noexec", "nodev"}
	if hc.Privileged {
		sysOpts, cgOpts = sysOpts[:3], cgOpts[1:]
	}
	defaults := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: sysOpts},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: cgOpts},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
	}
	if hc.IpcMode.IsHost() {
		defaults = append(defaults, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "nosuid", "noexec", "nodev"}})
	} else if !hc.IpcMode.IsNone() {
		defaults = append(defaults, specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm",
			Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=" + strconv.FormatInt(hc.ShmSize, 10)}})
	}

	var user []specs.Mount
	for dst, data := range hc.Tmpfs {
		opts := mergeTmpfsOptions(append([]string{"noexec", "nosuid", "nodev"}, splitNonEmpty(data)...))
		user = append(user, specs.Mount{Destination: path.Clean(dst), Type: "tmpfs", Source: "tmpfs", Options: opts})
	}
	for _, mp := range orderedMounts(c.MountPoints) {
		switch mp.Type {
		case mount.TypeTmpfs:
			var o *mount.TmpfsOptions
			if mp.Spec != nil {
				o = mp.Spec.TmpfsOptions
			}
			data, err := tmpfsOptions(o, !mp.RW)
			if err != nil {
				return nil, err
			}
			user = append(user, specs.Mount{Destination: mp.Destination, Type: "tmpfs", Source: "tmpfs",
				Options: mergeTmpfsOptions(append([]string{"noexec", "nosuid", "nodev"}, data...))})
		case mount.TypeBind, mount.TypeVolume:
			src := in.Sources[mp.Destination]
			if src == "" {
				src = mp.Source
			}
			if src == "" {
				return nil, errInvalidf("mount %s has no source", mp.Destination)
			}
			opts := []string{"rbind"}
			if mp.Spec != nil && mp.Spec.BindOptions != nil && mp.Spec.BindOptions.NonRecursive {
				opts[0] = "bind"
			}
			if mp.RW {
				opts = append(opts, "rw")
			} else {
				opts = append(opts, "ro")
			}
			prop := mp.Propagation
			if prop == "" {
				prop = mount.PropagationRPrivate
			}
			opts = append(opts, string(prop))
			user = append(user, specs.Mount{Destination: mp.Destination, Type: "bind", Source: src, Options: opts})
		}
	}
	taken := map[string]bool{}
	for _, m := range user {
		taken[m.Destination] = true
	}
	var out []specs.Mount
	for _, m := range defaults {
		if taken[m.Destination] || (taken["/dev"] && strings.HasPrefix(m.Destination, "/dev/")) {
			continue
		}
		out = append(out, m)
	}
	etcOpts := []string{"rbind", "rprivate"}
	if hc.ReadonlyRootfs {
		etcOpts = append(etcOpts, "ro")
	}
	for _, f := range []struct{ dst, src string }{
		{"/etc/resolv.conf", c.ResolvConfPath}, {"/etc/hostname", c.HostnamePath}, {"/etc/hosts", c.HostsPath},
	} {
		if f.src != "" && !taken[f.dst] {
			out = append(out, specs.Mount{Destination: f.dst, Type: "bind", Source: f.src, Options: etcOpts})
		}
	}
	sort.SliceStable(user, func(i, j int) bool {
		di, dj := strings.Count(user[i].Destination, "/"), strings.Count(user[j].Destination, "/")
		if di != dj {
			return di < dj
		}
		return user[i].Destination < user[j].Destination
	})
	return append(out, user...), nil
}

func splitNonEmpty(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// mergeTmpfsOptions keeps the last of each flag pair (exec/noexec, ...)
// and of each key=value, in first-seen order.
func mergeTmpfsOptions(opts []string) []string {
	pairs := map[string]string{"exec": "noexec", "noexec": "exec", "suid": "nosuid", "nosuid": "suid",
		"dev": "nodev", "nodev": "dev", "ro": "rw", "rw": "ro", "atime": "noatime", "noatime": "atime"}
	var out []string
	index := map[string]int{}
	for _, o := range opts {
		key := o
		if k, _, ok := strings.Cut(o, "="); ok {
			key = k + "="
		}
		if other, ok := pairs[o]; ok {
			if i, ok := index[other]; ok {
				out[i] = o
				delete(index, other)
				index[o] = i
				continue
			}
		}
		if i, ok := index[key]; ok {
			out[i] = o
			continue
		}
		index[key] = len(out)
		out = append(out, o)
	}
	return out
}

// hostDevices lists the device nodes under /dev for a privileged container.
func hostDevices() []specs.LinuxDevice {
	var out []specs.LinuxDevice
	_ = filepath.WalkDir("/dev", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			switch p {
			case "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/.lxc", "/dev/.udev":
				return filepath.SkipDir
			}
			return nil
		}
		if p == "/dev/console" {
			return nil
		}
		dev, ok := deviceOf(p)
		if ok {
			out = append(out, dev)
		}
		return nil
	})
	return out
}
