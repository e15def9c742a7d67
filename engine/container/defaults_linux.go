package container

import (
	"os"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Docker's default masked paths (bind-mounted over with /dev/null or an
// empty read-only tmpfs) and read-only paths.
var (
	defaultMaskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	defaultReadonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// rlimitNames maps --ulimit names to the OCI rlimit types.
var rlimitNames = map[string]string{
	"core": "RLIMIT_CORE", "cpu": "RLIMIT_CPU", "data": "RLIMIT_DATA", "fsize": "RLIMIT_FSIZE",
	"locks": "RLIMIT_LOCKS", "memlock": "RLIMIT_MEMLOCK", "msgqueue": "RLIMIT_MSGQUEUE",
	"nice": "RLIMIT_NICE", "nofile": "RLIMIT_NOFILE", "nproc": "RLIMIT_NPROC", "rss": "RLIMIT_RSS",
	"rtprio": "RLIMIT_RTPRIO", "rttime": "RLIMIT_RTTIME", "sigpending": "RLIMIT_SIGPENDING",
	"stack": "RLIMIT_STACK", "as": "RLIMIT_AS",
}

// defaultPath is PATH when neither the image nor the user sets one.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func i64(v int64) *int64 { return &v }

// defaultDeviceRules is the device cgroup of an unprivileged container:
// nothing, then mknod of anything, then the standard character devices.
func defaultDeviceRules() []specs.LinuxDeviceCgroup {
	c := func(major, minor int64, access string) specs.LinuxDeviceCgroup {
		r := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Access: access}
		if major >= 0 {
			r.Major = i64(major)
		}
		if minor >= 0 {
			r.Minor = i64(minor)
		}
		return r
	}
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		c(-1, -1, "m"),
		{Allow: true, Type: "b", Access: "m"},
		c(1, 3, "rwm"),    // /dev/null
		c(1, 8, "rwm"),    // /dev/random
		c(1, 7, "rwm"),    // /dev/full
		c(5, 0, "rwm"),    // /dev/tty
		c(1, 5, "rwm"),    // /dev/zero
		c(1, 9, "rwm"),    // /dev/urandom
		c(136, -1, "rwm"), // /dev/pts/*
		c(5, 2, "rwm"),    // /dev/ptmx
		c(10, 200, "rwm"), // /dev/net/tun
	}
}

// defaultDevices are the nodes every container's /dev has.
func defaultDevices() []specs.LinuxDevice {
	mode := os.FileMode(0o666)
	zero := uint32(0)
	d := func(path string, major, minor int64) specs.LinuxDevice {
		return specs.LinuxDevice{Path: path, Type: "c", Major: major, Minor: minor, FileMode: &mode, UID: &zero, GID: &zero}
	}
	return []specs.LinuxDevice{
		d("/dev/null", 1, 3), d("/dev/zero", 1, 5), d("/dev/full", 1, 7),
		d("/dev/random", 1, 8), d("/dev/urandom", 1, 9), d("/dev/tty", 5, 0),
	}
}

// orderedMounts lists mount points parents first: by the depth of their
// destination, then by name.
func orderedMounts(m map[string]*MountPoint) []*MountPoint {
	out := make([]*MountPoint, 0, len(m))
	for _, mp := range m {
		out = append(out, mp)
	}
	sort.Slice(out, func(i, j int) bool {
		di, dj := strings.Count(out[i].Destination, "/"), strings.Count(out[j].Destination, "/")
		if di != dj {
			return di < dj
		}
		return out[i].Destination < out[j].Destination
	})
	return out
}
