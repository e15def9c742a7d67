package container

import (
	"fmt"
	"path"
	"strings"

	containertypes "github.com/docker/docker/api/types/container"
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
