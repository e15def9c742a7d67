package specconv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
)

// mountFlag is how one mount option maps onto MS_* flags: set or clear.
type mountFlag struct {
	clear bool
	flag  int
}

var mountFlags = map[string]mountFlag{
	"acl": {false, unix.MS_POSIXACL}, "async": {true, unix.MS_SYNCHRONOUS}, "atime": {true, unix.MS_NOATIME},
	"bind": {false, unix.MS_BIND}, "defaults": {false, 0}, "dev": {true, unix.MS_NODEV},
	"diratime": {true, unix.MS_NODIRATIME}, "dirsync": {false, unix.MS_DIRSYNC}, "exec": {true, unix.MS_NOEXEC},
	"iversion": {false, unix.MS_I_VERSION}, "lazytime": {false, unix.MS_LAZYTIME}, "loud": {true, unix.MS_SILENT},
	"mand": {false, unix.MS_MANDLOCK}, "noacl": {true, unix.MS_POSIXACL}, "noatime": {false, unix.MS_NOATIME},
	"nodev": {false, unix.MS_NODEV}, "nodiratime": {false, unix.MS_NODIRATIME}, "noexec": {false, unix.MS_NOEXEC},
	"noiversion": {true, unix.MS_I_VERSION}, "nolazytime": {true, unix.MS_LAZYTIME}, "nomand": {true, unix.MS_MANDLOCK},
	"norelatime": {true, unix.MS_RELATIME}, "nostrictatime": {true, unix.MS_STRICTATIME}, "nosuid": {false, unix.MS_NOSUID},
	"rbind": {false, unix.MS_BIND | unix.MS_REC}, "relatime": {false, unix.MS_RELATIME}, "remount": {false, unix.MS_REMOUNT},
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY}, "silent": {false, unix.MS_SILENT},
	"strictatime": {false, unix.MS_STRICTATIME}, "suid": {true, unix.MS_NOSUID}, "sync": {false, unix.MS_SYNCHRONOUS},
}

// ParseMountOptions splits fstab-style options into flags to set, flags
// to clear, propagation flags, and the data string for the filesystem.
func ParseMountOptions(options []string) (flags, cleared int, prop []int, data string) {
	var extra []string
	for _, o := range options {
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				flags &^= f.flag
				cleared |= f.flag
			} else {
				flags |= f.flag
				cleared &^= f.flag
			}
			continue
		}
		if p, ok := propagation[o]; ok && o != "" {
			prop = append(prop, p)
			continue
		}
		extra = append(extra, o)
	}
	return flags, cleared, prop, strings.Join(extra, ",")
}

func convertMount(m specs.Mount, bundle string) (configs.Mount, error) {
	if m.Destination == "" || !filepath.IsAbs(m.Destination) {
		return configs.Mount{}, fmt.Errorf("mount destination %q must be absolute: %w", m.Destination, configs.ErrInvalid)
	}
	flags, cleared, prop, data := ParseMountOptions(m.Options)
	typ := m.Type
	if flags&unix.MS_BIND != 0 {
		typ = "bind"
	}
	if typ == "" {
		return configs.Mount{}, fmt.Errorf("mount %s has no type: %w", m.Destination, configs.ErrInvalid)
	}
	src := m.Source
	if typ == "bind" {
		flags |= unix.MS_BIND
		if !filepath.IsAbs(src) {
			src = filepath.Join(bundle, src)
		}
	}
	return configs.Mount{
		Source: src, Destination: filepath.Clean(m.Destination), Device: typ,
		Flags: flags, ClearedFlags: cleared, PropagationFlags: prop, Data: data, Options: m.Options,
	}, nil
}

func convertHooks(h *specs.Hooks) configs.Hooks {
	conv := func(in []specs.Hook) []configs.Hook {
		var out []configs.Hook
		for _, x := range in {
			out = append(out, configs.Hook(x))
		}
		return out
	}
	return configs.Hooks{
		Prestart: conv(h.Prestart), CreateRuntime: conv(h.CreateRuntime), CreateContainer: conv(h.CreateContainer),
		StartContainer: conv(h.StartContainer), Poststart: conv(h.Poststart), Poststop: conv(h.Poststop),
	}
}

func convertSeccomp(s *specs.LinuxSeccomp) *configs.Seccomp {
	out := &configs.Seccomp{DefaultAction: string(s.DefaultAction), DefaultErrno: s.DefaultErrnoRet, ListenerPath: s.ListenerPath}
	for _, a := range s.Architectures {
		out.Architectures = append(out.Architectures, string(a))
	}
	for _, f := range s.Flags {
		out.Flags = append(out.Flags, string(f))
	}
	for _, sc := range s.Syscalls {
		r := configs.SyscallRule{Names: sc.Names, Action: string(sc.Action), ErrnoRet: sc.ErrnoRet}
		for _, a := range sc.Args {
			r.Args = append(r.Args, configs.Arg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: string(a.Op)})
		}
		out.Syscalls = append(out.Syscalls, r)
	}
	return out
}

func decodeSpec(r io.Reader) (*specs.Spec, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read config.json: %w", err)
	}
	if s, ok := readSpecFast(b); ok {
		return s, nil
	}
	var s specs.Spec
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return nil, fmt.Errorf("decode config.json: %v: %w", err, configs.ErrInvalid)
	}
	return &s, nil
}

// MountOptionNames lists the mount options ParseMountOptions turns into
// flags (others are passed to the filesystem as data).
func MountOptionNames() []string {
	var out []string
	for name := range mountFlags {
		out = append(out, name)
	}
	for name := range propagation {
		if name != "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
