package container

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

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
