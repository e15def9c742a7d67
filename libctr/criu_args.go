package libctr

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/wharf-project/wharf/libctr/configs"
)

// CriuOpts are the options of a checkpoint or a restore, named after
// runc's flags. Only ImagesDir is required.
//
// The directories, after a checkpoint:
//
//	<ImagesDir>/              made 0700 if missing
//	├── descriptors.json      the init's fds 0-2 as criu names them (wharf's)
//	├── inventory.img, core-*.img, pages-*.img, mountpoints-*.img, ...
//	<WorkDir>/                ImagesDir unless set
//	├── dump.log              criu's log (restore.log after a restore)
//	└── restore.pid           the restored init's pid (restore only)
type CriuOpts struct {
	ImagesDir string
	WorkDir   string
	// LeaveRunning keeps the container running after the dump; without
	// it criu kills the dumped processes.
	LeaveRunning bool
	// TCPEstablished dumps and restores established TCP connections.
	TCPEstablished bool
	// ExtUnixSk allows unix sockets connected to the outside.
	ExtUnixSk bool
	// ShellJob allows a process tree attached to a session or terminal
	// outside the container.
	ShellJob bool
	// FileLocks dumps and restores file locks.
	FileLocks bool
	// ManageCgroupsMode is criu's --manage-cgroups: soft (the default),
	// full, strict or ignore.
	ManageCgroupsMode string
}

func (o *CriuOpts) validate() error {
	if o == nil || o.ImagesDir == "" {
		return fmt.Errorf("criu: the images directory is required: %w", configs.ErrInvalid)
	}
	switch o.ManageCgroupsMode {
	case "", "soft", "full", "strict", "ignore":
	default:
		return fmt.Errorf("criu: manage cgroups mode %q: want soft, full, strict or ignore: %w", o.ManageCgroupsMode, configs.ErrInvalid)
	}
	return nil
}

func (o *CriuOpts) workDir() string {
	if o.WorkDir != "" {
		return o.WorkDir
	}
	return o.ImagesDir
}

// criuPlan is what criu's command lines are made of, gathered from the
// container (see criuPlanOf), so that building them is a pure function.
type criuPlan struct {
	InitPid    int
	Rootfs     string
	CgroupPath string // the container's cgroup, below each hierarchy
	FreezerDir string // the freezer cgroup criu freezes the tree with ("" for none)
	// DumpControllers are the cgroup v1 hierarchies (as /proc/<pid>/cgroup
	// names them: "memory", "cpu,cpuacct") libctr manages. criu dumps the
	// cgroup tree below each hierarchy's task path; where the container
	// did not move its tasks (name=systemd, a hybrid's unified mount)
	// that is the whole host hierarchy, which the restore would copy
	// under the new container's cgroup. Empty (cgroup v2): all.
	DumpControllers []string
	// Mounts are the container's mounts that come from outside its mount
	// namespace (binds of host paths, the cgroup binds on v1, /dev/null
	// over masked files, device binds in a user namespace): criu records
	// each by its destination on dump and binds Source there on restore.
	Mounts []extMount
	// Stdio are the init's fds 0-2 as named in descriptors.json: criu's
	// keys ("pipe:[ino]", "socket:[ino]", "tty[rdev:dev]") for what the
	// restore must hand over, paths otherwise.
	Stdio []string
}

type extMount struct {
	Dest   string // in the container
	Source string // on the host, at restore time
}

// criuInherited reports whether a descriptor is handed over on restore
// (--inherit-fd) rather than reopened by criu.
func criuInherited(d string) bool {
	for _, prefix := range []string{"pipe:[", "socket:[", "tty[", "file["} {
		if strings.HasPrefix(d, prefix) {
			return true
		}
	}
	return false
}

// common are the options dump and restore share.
func (p *criuPlan) common(o *CriuOpts, log string) []string {
	args := []string{
		"--images-dir", o.ImagesDir,
		"--work-dir", o.workDir(),
		"--log-file", log, "-v4",
		"--root", p.Rootfs,
		"--manage-cgroups=" + cmp.Or(o.ManageCgroupsMode, "soft"),
	}
	for _, f := range []struct {
		on   bool
		flag string
	}{{o.TCPEstablished, "--tcp-established"}, {o.ExtUnixSk, "--ext-unix-sk"}, {o.ShellJob, "--shell-job"}, {o.FileLocks, "--file-locks"}} {
		if f.on {
			args = append(args, f.flag)
		}
	}
	return args
}

// dumpArgs is `criu dump` of the container's process tree: frozen
// through its freezer cgroup, external mounts recorded under their
// destination, terminals outside the container as externals.
func (p *criuPlan) dumpArgs(o *CriuOpts) []string {
	args := append([]string{"dump", "--tree", strconv.Itoa(p.InitPid)}, p.common(o, "dump.log")...)
	if o.LeaveRunning {
		args = append(args, "--leave-running")
	}
	if p.FreezerDir != "" {
		args = append(args, "--freeze-cgroup", p.FreezerDir)
	}
	for _, c := range p.DumpControllers {
		args = append(args, "--cgroup-dump-controller", c)
	}
	for _, m := range p.Mounts {
		args = append(args, "--ext-mount-map", m.Dest+":"+m.Dest)
	}
	for _, d := range p.Stdio {
		if strings.HasPrefix(d, "tty[") || strings.HasPrefix(d, "file[") {
			args = append(args, "--external", d)
		}
	}
	return args
}

// restoreArgs is `criu restore` into the container's cgroup, with the
// external mounts bound from their sources and inherited[k] (the criu
// key of a descriptor) handed over as criu's fd firstFd+k. criu detaches
// once the tree runs and leaves the init a sibling of itself, so a child
// of the caller, with its pid in pidfile.
func (p *criuPlan) restoreArgs(o *CriuOpts, inherited []string, firstFd int, pidfile string) []string {
	args := append([]string{"restore"}, p.common(o, "restore.log")...)
	args = append(args, "--restore-detached", "--restore-sibling", "--pidfile", pidfile,
		"--cgroup-root", p.CgroupPath)
	for _, m := range p.Mounts {
		args = append(args, "--ext-mount-map", m.Dest+":"+m.Source)
	}
	for k, key := range inherited {
		args = append(args, "--inherit-fd", fmt.Sprintf("fd[%d]:%s", firstFd+k, key))
	}
	return args
}

// criuExternalMounts lists the mounts of cfg that criu must treat as
// external (see criuPlan.Mounts); maskedFiles are the masked paths that
// are files in the running container (bound over by /dev/null).
func criuExternalMounts(cfg *configs.Config, v1 map[string]string, maskedFiles []string) []extMount {
	var out []extMount
	for _, m := range cfg.Mounts {
		switch {
		case m.Device == "bind":
			out = append(out, extMount{Dest: m.Destination, Source: m.Source})
		case m.Device == "cgroup" && v1 != nil:
			// A tmpfs with one bind per controller (see cgroupOps).
			for ctrl, mnt := range v1 {
				out = append(out, extMount{Dest: filepath.Join(m.Destination, ctrl), Source: filepath.Join(mnt, cfg.Cgroups.Path)})
			}
		case m.Device == "cgroup" && !cfg.Namespaces.Contains(configs.NEWCGROUP):
			out = append(out, extMount{Dest: m.Destination, Source: filepath.Join("/sys/fs/cgroup", cfg.Cgroups.Path)})
		}
	}
	for _, f := range maskedFiles {
		out = append(out, extMount{Dest: f, Source: "/dev/null"})
	}
	if cfg.Namespaces.Contains(configs.NEWUSER) {
		for _, d := range cfg.Devices {
			out = append(out, extMount{Dest: d.Path, Source: d.Path})
		}
	}
	// By destination, so that command lines are stable.
	slices.SortFunc(out, func(a, b extMount) int { return strings.Compare(a.Dest, b.Dest) })
	return out
}
