package volume

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/ident"
)

// validateName checks a local volume's name with dockerd's messages.
func validateName(name string) error {
	if len(name) == 1 {
		return invalidf("volume name is too short, names should be at least two alphanumeric characters")
	}
	if !ident.IsName(name) { // "" too
		return invalidf("%q includes invalid characters for a local volume name, only %q are allowed. If you intended to pass a host directory, use absolute path", name, ident.NameChars)
	}
	return nil
}

// The local driver's options, and which others each one needs.
var (
	validOpts     = map[string]bool{"type": true, "o": true, "device": true, "size": true}
	mandatoryOpts = map[string][]string{"device": {"type"}, "type": {"device"}, "o": {"device", "type"}}
)

func validateOpts(opts map[string]string) error {
	for k := range opts {
		if !validOpts[k] {
			return invalidf("invalid option: %q", k)
		}
	}
	if v, ok := opts["size"]; ok {
		size, err := units.RAMInBytes(v)
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		if size > 0 {
			return invalidf("quota size requested but no quota support")
		}
	}
	for _, k := range []string{"device", "type", "o"} { // fixed order: stable messages
		if _, ok := opts[k]; !ok {
			continue
		}
		for _, need := range mandatoryOpts[k] {
			if _, ok := opts[need]; !ok {
				return invalidf("missing required option: %q", need)
			}
		}
	}
	return nil
}

// needsMount reports whether the volume is a mount of its own.
func needsMount(opts map[string]string) bool { return opts["type"] != "" || opts["device"] != "" }

// mountFlags are the fstab words that are mount(2) flags; the rest of an
// `o=` option string goes to the filesystem as data.
var mountFlags = map[string]struct {
	clear bool
	flag  uintptr
}{
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY},
	"bind": {false, unix.MS_BIND}, "rbind": {false, unix.MS_BIND | unix.MS_REC},
	"nosuid": {false, unix.MS_NOSUID}, "suid": {true, unix.MS_NOSUID},
	"nodev": {false, unix.MS_NODEV}, "dev": {true, unix.MS_NODEV},
	"noexec": {false, unix.MS_NOEXEC}, "exec": {true, unix.MS_NOEXEC},
	"sync": {false, unix.MS_SYNCHRONOUS}, "async": {true, unix.MS_SYNCHRONOUS},
	"dirsync": {false, unix.MS_DIRSYNC}, "mand": {false, unix.MS_MANDLOCK}, "nomand": {true, unix.MS_MANDLOCK},
	"noatime": {false, unix.MS_NOATIME}, "atime": {true, unix.MS_NOATIME},
	"nodiratime": {false, unix.MS_NODIRATIME}, "diratime": {true, unix.MS_NODIRATIME},
	"relatime": {false, unix.MS_RELATIME}, "norelatime": {true, unix.MS_RELATIME},
	"strictatime": {false, unix.MS_STRICTATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
	"defaults": {false, 0},
}

// parseMountOptions splits an fstab option string into mount(2) flags and
// the filesystem's data string.
func parseMountOptions(o string) (uintptr, string) {
	var flags uintptr
	var data []string
	for _, opt := range strings.Split(o, ",") {
		if opt == "" {
			continue
		}
		if f, ok := mountFlags[opt]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		data = append(data, opt)
	}
	return flags, strings.Join(data, ",")
}

// mountDevice mounts the volume's device on target as `mount -t type -o o
// device target` would; a read-only bind is remounted read-only, as the
// kernel ignores MS_RDONLY on the first bind call.
func mountDevice(opts map[string]string, target string) error {
	if opts["device"] == "" {
		return errors.New("missing device in volume options")
	}
	flags, data := parseMountOptions(opts["o"])
	typ, mflags := opts["type"], flags
	if flags&unix.MS_BIND != 0 {
		typ, mflags = "", flags&^unix.MS_RDONLY // read-only comes with the remount below
	}
	if err := unix.Mount(opts["device"], target, typ, mflags, data); err != nil {
		return fmt.Errorf("failed to mount local volume: mount %s:%s, flags: %#x, data: %s: %w", opts["device"], target, flags, data, err)
	}
	if flags&unix.MS_BIND != 0 && flags&unix.MS_RDONLY != 0 {
		if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			_ = unix.Unmount(target, unix.MNT_DETACH)
			return fmt.Errorf("failed to mount local volume: remount %s read-only: %w", target, err)
		}
	}
	return nil
}

// unmountDevice unmounts target if something is mounted there.
func unmountDevice(target string) error {
	if err := unix.Unmount(target, 0); err != nil {
		if mounted, merr := mountinfo.Mounted(target); mounted || merr != nil {
			if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
				return errdefs.System(fmt.Errorf("unmount %s: %w", target, err))
			}
		}
	}
	return nil
}

// removeDir removes a volume's directory, but never through a mount: a
// volume whose _data is still mounted (a bind of host files) is unmounted
// first, and refused if that fails.
func removeDir(dir, data string) error {
	if mounted, _ := mountinfo.Mounted(data); mounted {
		if err := unmountDevice(data); err != nil {
			return err
		}
		if mounted, _ := mountinfo.Mounted(data); mounted {
			return errdefs.System(fmt.Errorf("%s is still mounted", data))
		}
	}
	return os.RemoveAll(dir)
}
