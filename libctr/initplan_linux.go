package libctr

import (
	"maps"
	"path/filepath"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/nsenter"
	"github.com/wharf-project/wharf/libctr/seccomp"
)

// A container's init needs no Go either, in the common case: the parent
// expands the rootfs work into steps (every mount of the spec, the cgroup
// mounts spelled out as the tmpfs and bind mounts they become, /dev's
// nodes) and sends them with an exec plan for the program, as an init
// plan that the nsenter constructor carries out in C
// (libctr/nsenter/initplan.c) — the same steps, in the same order, as
// setupContainer, prepareRootfs and initMain. A container then starts
// without a Go runtime start and the package inits of the binary in its
// init (about 3.5 ms of a `run` here), and its parent encodes no JSON
// config for it.
//
// The plan is used unless the container needs what only the Go init does:
// a user or time namespace, a mount namespace joined by path or none at
// all (chroot only), hooks that run in the container or before it is
// created (prestart, createRuntime, createContainer, startContainer), or
// a seccomp notify listener. Its wire format, after the u32 length, in
// native byte order (str and strs as in the exec plan):
//
//	u32 magic "WIP1", u32 flags (initCgroupNS ...), u64 root propagation
//	str rootfs, str the mount point holding it, str hostname, str domainname
//	u32 n, n × {u32 kind (opMount ...), u64 flags, str source,
//	            str destination (clean, inside the rootfs), str fstype, str data}
//	u32 n, n × {str path, u32 mode (with the type bits), u64 dev, u32 uid, u32 gid}
//	u32 n, n × {str key, str /proc/sys path, str value}   sysctls
//	strs readonly paths, strs masked paths
//	the process half of an exec plan, from its magic on
const (
	initCgroupNS = 1 << iota
	initUTS
	initDev
	initNoPivot
	initReadonlyRoot

	initMagic = 0x31504957 // "WIP1" read as a little-endian u32
)

// The mount steps of an init plan.
const (
	opMount     = 1 + iota // mkdir the destination, mount(2) source on it
	opBind                 // bind a file or directory, remount with the other flags
	opRemount              // remount the destination with flags
	opPropagate            // one propagation change of the destination
	opSetattr              // mount_setattr(2) the destination and every mount below it: MOUNT_ATTR_* to set | to clear<<32
)

// initPlanOff makes every container start take the Go init, for tests that
// check both paths agree.
var initPlanOff bool

// useInitPlan reports whether cfg's container can be set up by an init
// plan (see above).
func useInitPlan(cfg *configs.Config) bool {
	ns, ok := cfg.Namespaces.Get(configs.NEWNS)
	h := cfg.Hooks
	return nsenter.Enabled && !initPlanOff && ok && ns.Path == "" &&
		!cfg.Namespaces.Contains(configs.NEWUSER) && !cfg.Namespaces.Contains(configs.NEWTIME) &&
		len(h.Prestart)+len(h.CreateRuntime)+len(h.CreateContainer)+len(h.StartContainer) == 0 &&
		(cfg.Seccomp == nil || cfg.Seccomp.ListenerPath == "")
}

// planOp is one mount step.
type planOp struct {
	kind                    uint32
	flags                   uint64
	src, dest, fstype, data string
}

// encodeInitPlan lays out cfg's container and p for initplan.c; firstFd
// is the child's init pipe.
func encodeInitPlan(cfg *configs.Config, p *configs.Process, id string, cgroupPaths map[string]string, filter []seccomp.Instruction, firstFd int) ([]byte, error) {
	var flags uint32
	if unshareCgroupNS(cfg) {
		flags |= initCgroupNS
	}
	if cfg.Namespaces.Contains(configs.NEWUTS) {
		flags |= initUTS
	}
	if cfg.NoPivotRoot {
		flags |= initNoPivot
	}
	if cfg.Readonlyfs {
		flags |= initReadonlyRoot
	}
	ops := mountOps(cfg, cgroupPaths)
	var devices []configs.Device
	if freshDev(cfg) {
		flags |= initDev
		devices = cfg.Devices
	}
	if max(len(ops), len(devices), len(cfg.Sysctl)) > planMaxItems {
		return nil, errPlanTooBig
	}
	parent, err := privateParent(cfg)
	if err != nil {
		return nil, err
	}
	var b planBuf
	b.put(uint32(initMagic), flags, uint64(cfg.RootPropagation))
	for _, s := range []string{cfg.Rootfs, parent, cfg.Hostname, cfg.Domainname} {
		b.str(s)
	}
	b.put(uint32(len(ops)))
	for _, o := range ops {
		b.put(o.kind, o.flags)
		for _, s := range []string{o.src, o.dest, o.fstype, o.data} {
			b.str(s)
		}
	}
	b.put(uint32(len(devices)))
	for _, d := range devices {
		b.str(filepath.Clean("/" + d.Path))
		b.put(deviceMode(&d), unix.Mkdev(uint32(d.Major), uint32(d.Minor)), d.UID, d.GID)
	}
	keys := slices.Sorted(maps.Keys(cfg.Sysctl))
	b.put(uint32(len(keys)))
	for _, k := range keys {
		b.str(k)
		b.str(sysctlPath(k))
		b.str(cfg.Sysctl[k])
	}
	b.strs(cfg.ReadonlyPaths)
	b.strs(cfg.MaskPaths)
	if err := b.process(cfg, p, id, false, filter, firstFd); err != nil {
		return nil, err
	}
	return b.bytes()
}

// mountOps spells out cfg's mounts as steps, which both inits carry out
// (mountOp in rootfs_linux.go, do_op in nsenter/initplan.c), the cgroup
// mount from the container's cgroup directories (the manager's Paths: one
// per v1 controller, or "" for the v2 one).
func mountOps(cfg *configs.Config, cgroupPaths map[string]string) []planOp {
	var ops []planOp
	for _, m := range cfg.Mounts {
		dest := filepath.Clean("/" + m.Destination)
		flags := uint64(m.Flags)
		switch m.Device {
		case "bind":
			ops = append(ops, planOp{kind: opBind, flags: flags, src: m.Source, dest: dest})
		case "cgroup":
			ops = append(ops, cgroupOps(&m, dest, cfg, cgroupPaths)...)
		default:
			ops = append(ops, planOp{kind: opMount, flags: flags, src: m.Source, dest: dest, fstype: m.Device, data: m.Data})
		}
		for _, p := range m.PropagationFlags {
			ops = append(ops, planOp{kind: opPropagate, flags: uint64(p), src: m.Source, dest: dest})
		}
	}
	return ops
}

// cgroupOps is the cgroup mount as steps: on v2 the unified hierarchy (a
// fresh cgroup2 mount inside a cgroup namespace, else a bind of the
// container's directory); on v1 a tmpfs with one bind per controller of
// the container's directory in that controller.
func cgroupOps(m *configs.Mount, dest string, cfg *configs.Config, paths map[string]string) []planOp {
	ro := uint64(m.Flags) & unix.MS_RDONLY
	base := uint64(m.Flags) &^ unix.MS_RDONLY
	if dir, v2 := paths[""]; v2 {
		if cfg.Namespaces.Contains(configs.NEWCGROUP) {
			return []planOp{{kind: opMount, flags: uint64(m.Flags), src: "cgroup2", dest: dest, fstype: "cgroup2"}}
		}
		return []planOp{
			{kind: opBind, flags: unix.MS_BIND | unix.MS_REC, src: dir, dest: dest},
			{kind: opRemount, flags: uint64(m.Flags), src: dir, dest: dest},
		}
	}
	ops := []planOp{{kind: opMount, flags: base, src: "tmpfs", dest: dest, fstype: "tmpfs", data: "mode=755"}}
	// The controllers' binds take the flags in one recursive
	// mount_setattr on the tmpfs, where the kernel has it, instead of a
	// remount each (see cgroupAttrs).
	attrs, recursive := cgroupAttrs(uintptr(base | ro))
	bindFlags := uint64(unix.MS_BIND | unix.MS_REC)
	if !recursive {
		bindFlags |= base | ro
	}
	for _, ctrl := range slices.Sorted(maps.Keys(paths)) {
		ops = append(ops, planOp{kind: opBind, flags: bindFlags, src: paths[ctrl], dest: filepath.Join(dest, ctrl)})
	}
	switch {
	case recursive && attrs != 0:
		ops = append(ops, planOp{kind: opSetattr, flags: attrs, src: "tmpfs", dest: dest})
	case recursive:
	case ro != 0:
		ops = append(ops, planOp{kind: opRemount, flags: base | ro, src: "tmpfs", dest: dest})
	}
	return ops
}

// cgroupAttrs is a mount's flags as mount_setattr(2) takes them, the
// attributes to set in the low 32 bits and those to clear in the high
// ones (an atime mode replaces the one there), and whether that call works
// here (Linux 5.12 and later, and not refused by a seccomp profile): the
// v1 cgroup mount's binds (one per controller) then get them in one
// recursive call on their tmpfs, not in one remount each (~0.1 ms of every
// container start). Setting only adds flags, so nosuid, nodev or noexec
// that a user namespace locks on the source cannot make it fail; flags the
// spec leaves out stay as the source mount has them, where a remount
// would clear them when it can.
func cgroupAttrs(flags uintptr) (attrs uint64, ok bool) {
	var set, clr uint64
	for ms, attr := range map[uintptr]uint64{unix.MS_RDONLY: unix.MOUNT_ATTR_RDONLY, unix.MS_NOSUID: unix.MOUNT_ATTR_NOSUID,
		unix.MS_NODEV: unix.MOUNT_ATTR_NODEV, unix.MS_NOEXEC: unix.MOUNT_ATTR_NOEXEC, unix.MS_NODIRATIME: unix.MOUNT_ATTR_NODIRATIME} {
		if flags&ms != 0 {
			set |= attr
		}
	}
	switch {
	case flags&unix.MS_NOATIME != 0:
		set, clr = set|unix.MOUNT_ATTR_NOATIME, unix.MOUNT_ATTR__ATIME
	case flags&unix.MS_STRICTATIME != 0:
		set, clr = set|unix.MOUNT_ATTR_STRICTATIME, unix.MOUNT_ATTR__ATIME
	case flags&unix.MS_RELATIME != 0:
		set, clr = set|unix.MOUNT_ATTR_RELATIME, unix.MOUNT_ATTR__ATIME
	}
	return set | clr<<32, mountSetattrWorks()
}

// mountSetattrWorks probes mount_setattr(2) once: a call on a bad
// descriptor says EBADF where it exists (one that sets nothing succeeds
// before the descriptor is looked at).
var mountSetattrWorks = sync.OnceValue(func() bool {
	return unix.MountSetattr(-1, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}) == unix.EBADF
})
