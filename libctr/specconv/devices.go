package specconv

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/libctr/configs"
)

// DefaultDevices are the nodes every container's /dev gets, whatever the
// spec says (the runtime spec requires them).
var DefaultDevices = []configs.Device{
	{Type: 'c', Path: "/dev/null", Major: 1, Minor: 3, FileMode: 0o666},
	{Type: 'c', Path: "/dev/zero", Major: 1, Minor: 5, FileMode: 0o666},
	{Type: 'c', Path: "/dev/full", Major: 1, Minor: 7, FileMode: 0o666},
	{Type: 'c', Path: "/dev/random", Major: 1, Minor: 8, FileMode: 0o666},
	{Type: 'c', Path: "/dev/urandom", Major: 1, Minor: 9, FileMode: 0o666},
	{Type: 'c', Path: "/dev/tty", Major: 5, Minor: 0, FileMode: 0o666},
}

// defaultAllow are the device cgroup rules added after the spec's: the
// default nodes above, /dev/pts/* and /dev/ptmx.
var defaultAllow = []configs.DeviceRule{
	{Type: 'c', Major: 1, Minor: 3, Access: "rwm", Allow: true},
	{Type: 'c', Major: 1, Minor: 5, Access: "rwm", Allow: true},
	{Type: 'c', Major: 1, Minor: 7, Access: "rwm", Allow: true},
	{Type: 'c', Major: 1, Minor: 8, Access: "rwm", Allow: true},
	{Type: 'c', Major: 1, Minor: 9, Access: "rwm", Allow: true},
	{Type: 'c', Major: 5, Minor: 0, Access: "rwm", Allow: true},
	{Type: 'c', Major: 5, Minor: 1, Access: "rwm", Allow: true},
	{Type: 'c', Major: 5, Minor: 2, Access: "rwm", Allow: true},
	{Type: 'c', Major: 136, Minor: -1, Access: "rwm", Allow: true},
}

func convertDevices(in []specs.LinuxDevice) ([]configs.Device, error) {
	out := append([]configs.Device(nil), DefaultDevices...)
	for _, d := range in {
		if len(d.Type) != 1 || (d.Type != "c" && d.Type != "b" && d.Type != "p" && d.Type != "u") {
			return nil, fmt.Errorf("device %s: type %q: %w", d.Path, d.Type, configs.ErrInvalid)
		}
		t := rune(d.Type[0])
		if t == 'u' {
			t = 'c'
		}
		mode := os.FileMode(0o666)
		if d.FileMode != nil {
			mode = *d.FileMode
		}
		dev := configs.Device{Type: t, Path: d.Path, Major: d.Major, Minor: d.Minor, FileMode: uint32(mode.Perm())}
		if d.UID != nil {
			dev.UID = *d.UID
		}
		if d.GID != nil {
			dev.GID = *d.GID
		}
		replaced := false
		for i := range out {
			if out[i].Path == dev.Path {
				out[i], replaced = dev, true
			}
		}
		if !replaced {
			out = append(out, dev)
		}
	}
	return out, nil
}
