// Package specconv is the one place where the OCI runtime spec enters
// libctr: it turns a bundle's config.json (specs.Spec) into configs.Config
// and configs.Process, resolving the rootfs against the bundle, mount
// options into MS_* flags, rlimit names into numbers, and the resources
// into a configs.Cgroup. Nothing else in libctr imports runtime-spec except
// where it must speak the spec's state JSON.
package specconv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
)

// Options tune the conversion.
type Options struct {
	ID         string // container id, used for the default cgroup path
	Bundle     string // absolute bundle directory the rootfs is relative to
	CgroupRoot string // parent of default cgroup paths, "/wharf" when empty
}

// LoadSpec reads and decodes <bundle>/config.json.
func LoadSpec(bundle string) (*specs.Spec, error) {
	f, err := os.Open(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("open bundle config: %w", err)
	}
	defer f.Close()
	return decodeSpec(f)
}

// ToConfig converts a spec into a container config and its init process.
func ToConfig(spec *specs.Spec, opts Options) (*configs.Config, *configs.Process, error) {
	if spec == nil || spec.Root == nil || spec.Root.Path == "" {
		return nil, nil, fmt.Errorf("spec has no root.path: %w", configs.ErrInvalid)
	}
	if spec.Process == nil {
		return nil, nil, fmt.Errorf("spec has no process: %w", configs.ErrInvalid)
	}
	if spec.Linux == nil {
		return nil, nil, fmt.Errorf("spec has no linux section: %w", configs.ErrInvalid)
	}
	if !strings.HasPrefix(spec.Version, "1.") {
		return nil, nil, fmt.Errorf("unsupported ociVersion %q: %w", spec.Version, configs.ErrInvalid)
	}
	rootfs := spec.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(opts.Bundle, rootfs)
	}
	if real, err := filepath.EvalSymlinks(rootfs); err == nil {
		rootfs = real
	} else {
		return nil, nil, fmt.Errorf("rootfs %s: %w", rootfs, err)
	}
	c := &configs.Config{
		Rootfs:      rootfs,
		Readonlyfs:  spec.Root.Readonly,
		Hostname:    spec.Hostname,
		Domainname:  spec.Domainname,
		Labels:      spec.Annotations,
		Version:     spec.Version,
		Sysctl:      spec.Linux.Sysctl,
		MaskPaths:   spec.Linux.MaskedPaths,
		MountLabel:  spec.Linux.MountLabel,
		OomScoreAdj: spec.Process.OOMScoreAdj,
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	c.ReadonlyPaths = spec.Linux.ReadonlyPaths
	for clock, off := range spec.Linux.TimeOffsets {
		if c.TimeOffsets == nil {
			c.TimeOffsets = map[string]configs.TimeOffset{}
		}
		c.TimeOffsets[clock] = configs.TimeOffset(off)
	}
	if p, ok := propagation[spec.Linux.RootfsPropagation]; ok {
		c.RootPropagation = p
	} else {
		return nil, nil, fmt.Errorf("rootfsPropagation %q: %w", spec.Linux.RootfsPropagation, configs.ErrInvalid)
	}
	for _, ns := range spec.Linux.Namespaces {
		t, ok := namespaceTypes[ns.Type]
		if !ok {
			return nil, nil, fmt.Errorf("namespace type %q: %w", ns.Type, configs.ErrInvalid)
		}
		c.Namespaces = append(c.Namespaces, configs.Namespace{Type: t, Path: ns.Path})
	}
	for _, m := range spec.Linux.UIDMappings {
		c.UIDMappings = append(c.UIDMappings, configs.IDMap{ContainerID: int64(m.ContainerID), HostID: int64(m.HostID), Size: int64(m.Size)})
	}
	for _, m := range spec.Linux.GIDMappings {
		c.GIDMappings = append(c.GIDMappings, configs.IDMap{ContainerID: int64(m.ContainerID), HostID: int64(m.HostID), Size: int64(m.Size)})
	}
	for _, m := range spec.Mounts {
		cm, err := convertMount(m, opts.Bundle)
		if err != nil {
			return nil, nil, err
		}
		c.Mounts = append(c.Mounts, cm)
	}
	devs, err := convertDevices(spec.Linux.Devices)
	if err != nil {
		return nil, nil, err
	}
	c.Devices = devs
	cg, err := convertCgroup(spec, opts, devs)
	if err != nil {
		return nil, nil, err
	}
	c.Cgroups = cg
	if spec.Linux.Seccomp != nil {
		c.Seccomp = convertSeccomp(spec.Linux.Seccomp)
	}
	if spec.Hooks != nil {
		c.Hooks = convertHooks(spec.Hooks)
	}
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	p, err := ToProcess(spec.Process)
	if err != nil {
		return nil, nil, err
	}
	return c, p, nil
}

// ToProcess converts the spec's process (the init, or an exec --process file).
func ToProcess(sp *specs.Process) (*configs.Process, error) {
	if sp == nil {
		return nil, fmt.Errorf("no process: %w", configs.ErrInvalid)
	}
	p := &configs.Process{
		Args:            sp.Args,
		Env:             sp.Env,
		Cwd:             sp.Cwd,
		UID:             sp.User.UID,
		GID:             sp.User.GID,
		AdditionalGids:  sp.User.AdditionalGids,
		Umask:           sp.User.Umask,
		Terminal:        sp.Terminal,
		NoNewPrivileges: sp.NoNewPrivileges,
		OomScoreAdj:     sp.OOMScoreAdj,
		ApparmorProfile: sp.ApparmorProfile,
		SelinuxLabel:    sp.SelinuxLabel,
	}
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	if sp.Capabilities != nil {
		caps := configs.Capabilities(*sp.Capabilities)
		p.Capabilities = &caps
		for _, set := range [][]string{p.Capabilities.Bounding, p.Capabilities.Effective, p.Capabilities.Inheritable, p.Capabilities.Permitted, p.Capabilities.Ambient} {
			for _, name := range set {
				if _, ok := CapabilityByName(name); !ok {
					return nil, fmt.Errorf("unknown capability %q: %w", name, configs.ErrInvalid)
				}
			}
		}
	}
	for _, rl := range sp.Rlimits {
		t, ok := rlimits[rl.Type]
		if !ok {
			return nil, fmt.Errorf("rlimit type %q: %w", rl.Type, configs.ErrInvalid)
		}
		p.Rlimits = append(p.Rlimits, configs.Rlimit{Type: t, Hard: rl.Hard, Soft: rl.Soft})
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

var namespaceTypes = map[specs.LinuxNamespaceType]configs.NamespaceType{
	specs.PIDNamespace: configs.NEWPID, specs.NetworkNamespace: configs.NEWNET,
	specs.MountNamespace: configs.NEWNS, specs.IPCNamespace: configs.NEWIPC,
	specs.UTSNamespace: configs.NEWUTS, specs.UserNamespace: configs.NEWUSER,
	specs.CgroupNamespace: configs.NEWCGROUP, specs.TimeNamespace: configs.NEWTIME,
}

var propagation = map[string]int{
	"":            0,
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

var rlimits = map[string]int{
	"RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_DATA": unix.RLIMIT_DATA,
	"RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK,
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
}
