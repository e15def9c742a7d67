package configs

// Config and Process encode and decode themselves without reflection (see
// internal/jsonlite for why: every runtime command is a new process
// that reads a container's state.json once). The output is byte for byte
// json.Marshal's of the same struct tags, and input the fast path is not
// sure of goes to encoding/json, so the tags stay the single definition of
// the format.
//
// A field added to one of these types must be added here too:
// json_test.go fills every field by reflection and fails until it is.

import (
	"encoding/json"
	"slices"

	"github.com/wharf-project/wharf/internal/jsonlite"
)

// The types without the methods, for encoding/json's fallback.
type (
	plainConfig  Config
	plainProcess Process
)

// MarshalJSON is json.Marshal of the struct tags, without reflection.
func (c Config) MarshalJSON() ([]byte, error) {
	w := &jsonlite.Writer{B: make([]byte, 0, 2048)}
	c.WriteJSON(w)
	return w.B, nil
}

// UnmarshalJSON is json.Unmarshal of the struct tags, without reflection
// for what json.Marshal writes.
func (c *Config) UnmarshalJSON(b []byte) error {
	if jsonlite.Decode(b, c, (*Config).ReadJSON) {
		return nil
	}
	return json.Unmarshal(b, (*plainConfig)(c))
}

// MarshalJSON is json.Marshal of the struct tags, without reflection.
func (p Process) MarshalJSON() ([]byte, error) {
	w := &jsonlite.Writer{B: make([]byte, 0, 512)}
	p.WriteJSON(w)
	return w.B, nil
}

// UnmarshalJSON is json.Unmarshal of the struct tags, without reflection
// for what json.Marshal writes.
func (p *Process) UnmarshalJSON(b []byte) error {
	if jsonlite.Decode(b, p, (*Process).ReadJSON) {
		return nil
	}
	return json.Unmarshal(b, (*plainProcess)(p))
}

// Writers of the values the types hold, for jsonlite.WriteSlice.
func writeInt(w *jsonlite.Writer, n int)       { w.Int(int64(n)) }
func writeUint32(w *jsonlite.Writer, n uint32) { w.Uint(uint64(n)) }

// WriteJSON appends c as json.Marshal would.
func (c *Config) WriteJSON(w *jsonlite.Writer) {
	w.Open('{')
	w.StringMember("rootfs", c.Rootfs, jsonlite.KeepEmpty)
	w.BoolMember("readonlyfs", c.Readonlyfs, jsonlite.OmitEmpty)
	w.IntMember("root_propagation", int64(c.RootPropagation), jsonlite.OmitEmpty)
	w.BoolMember("no_pivot_root", c.NoPivotRoot, jsonlite.OmitEmpty)
	w.BoolMember("no_new_keyring", c.NoNewKeyring, jsonlite.OmitEmpty)
	w.StringMember("hostname", c.Hostname, jsonlite.OmitEmpty)
	w.StringMember("domainname", c.Domainname, jsonlite.OmitEmpty)
	w.Key("namespaces")
	jsonlite.WriteSlice(w, c.Namespaces, func(w *jsonlite.Writer, n Namespace) {
		w.Open('{')
		w.StringMember("type", string(n.Type), jsonlite.KeepEmpty)
		w.StringMember("path", n.Path, jsonlite.OmitEmpty)
		w.Close('}')
	})
	idMaps(w, "uid_mappings", c.UIDMappings)
	idMaps(w, "gid_mappings", c.GIDMappings)
	if len(c.Mounts) > 0 {
		w.Key("mounts")
		jsonlite.WriteSlice(w, c.Mounts, func(w *jsonlite.Writer, m Mount) { m.write(w) })
	}
	if len(c.Devices) > 0 {
		w.Key("devices")
		jsonlite.WriteSlice(w, c.Devices, func(w *jsonlite.Writer, d Device) {
			w.Open('{')
			w.IntMember("type", int64(d.Type), jsonlite.KeepEmpty)
			w.StringMember("path", d.Path, jsonlite.KeepEmpty)
			w.IntMember("major", d.Major, jsonlite.KeepEmpty)
			w.IntMember("minor", d.Minor, jsonlite.KeepEmpty)
			w.UintMember("file_mode", uint64(d.FileMode), jsonlite.KeepEmpty)
			w.UintMember("uid", uint64(d.UID), jsonlite.KeepEmpty)
			w.UintMember("gid", uint64(d.GID), jsonlite.KeepEmpty)
			w.Close('}')
		})
	}
	w.StringsMember("mask_paths", c.MaskPaths, jsonlite.OmitEmpty)
	w.StringsMember("readonly_paths", c.ReadonlyPaths, jsonlite.OmitEmpty)
	if len(c.Sysctl) > 0 {
		w.Key("sysctl")
		jsonlite.WriteMap(w, c.Sysctl, (*jsonlite.Writer).String)
	}
	if c.OomScoreAdj != nil {
		w.IntMember("oom_score_adj", int64(*c.OomScoreAdj), jsonlite.KeepEmpty)
	}
	w.Key("cgroups")
	if c.Cgroups == nil {
		w.Null()
	} else {
		c.Cgroups.write(w)
	}
	if c.Seccomp != nil {
		w.Key("seccomp")
		c.Seccomp.write(w)
	}
	w.Key("hooks") // omitempty does not leave out a struct
	c.Hooks.write(w)
	if len(c.Labels) > 0 {
		w.Key("labels")
		jsonlite.WriteMap(w, c.Labels, (*jsonlite.Writer).String)
	}
	w.StringMember("version", c.Version, jsonlite.KeepEmpty)
	w.StringMember("mount_label", c.MountLabel, jsonlite.OmitEmpty)
	w.StringMember("personality", c.Personality, jsonlite.OmitEmpty)
	if len(c.TimeOffsets) > 0 {
		w.Key("time_offsets")
		jsonlite.WriteMap(w, c.TimeOffsets, func(w *jsonlite.Writer, t TimeOffset) {
			w.Open('{')
			w.IntMember("secs", t.Secs, jsonlite.KeepEmpty)
			w.UintMember("nanosecs", uint64(t.Nanosecs), jsonlite.KeepEmpty)
			w.Close('}')
		})
	}
	w.Close('}')
}

// ReadJSON decodes what WriteJSON writes into c; see jsonlite.Reader.
func (c *Config) ReadJSON(r *jsonlite.Reader) {
	for k := range r.Object() {
		switch k {
		case "rootfs":
			jsonlite.String(r, &c.Rootfs)
		case "readonlyfs":
			r.Bool(&c.Readonlyfs)
		case "root_propagation":
			jsonlite.Int(r, &c.RootPropagation)
		case "no_pivot_root":
			r.Bool(&c.NoPivotRoot)
		case "no_new_keyring":
			r.Bool(&c.NoNewKeyring)
		case "hostname":
			jsonlite.String(r, &c.Hostname)
		case "domainname":
			jsonlite.String(r, &c.Domainname)
		case "namespaces":
			jsonlite.Slice(r, (*[]Namespace)(&c.Namespaces), func(r *jsonlite.Reader, n *Namespace) {
				for k := range r.Object() {
					switch k {
					case "type":
						jsonlite.String(r, &n.Type)
					case "path":
						jsonlite.String(r, &n.Path)
					default:
						r.Fail()
					}
				}
			})
		case "uid_mappings":
			jsonlite.Slice(r, &c.UIDMappings, readIDMap)
		case "gid_mappings":
			jsonlite.Slice(r, &c.GIDMappings, readIDMap)
		case "mounts":
			jsonlite.Slice(r, &c.Mounts, func(r *jsonlite.Reader, m *Mount) { m.read(r) })
		case "devices":
			jsonlite.Slice(r, &c.Devices, func(r *jsonlite.Reader, d *Device) {
				for k := range r.Object() {
					switch k {
					case "type":
						jsonlite.Int(r, &d.Type)
					case "path":
						jsonlite.String(r, &d.Path)
					case "major":
						jsonlite.Int(r, &d.Major)
					case "minor":
						jsonlite.Int(r, &d.Minor)
					case "file_mode":
						jsonlite.Uint(r, &d.FileMode)
					case "uid":
						jsonlite.Uint(r, &d.UID)
					case "gid":
						jsonlite.Uint(r, &d.GID)
					default:
						r.Fail()
					}
				}
			})
		case "mask_paths":
			jsonlite.Strings(r, &c.MaskPaths)
		case "readonly_paths":
			jsonlite.Strings(r, &c.ReadonlyPaths)
		case "sysctl":
			jsonlite.Map(r, &c.Sysctl, jsonlite.String)
		case "oom_score_adj":
			jsonlite.Ptr(r, &c.OomScoreAdj, jsonlite.Int)
		case "cgroups":
			jsonlite.Ptr(r, &c.Cgroups, func(r *jsonlite.Reader, g *Cgroup) { g.read(r) })
		case "seccomp":
			jsonlite.Ptr(r, &c.Seccomp, func(r *jsonlite.Reader, s *Seccomp) { s.read(r) })
		case "hooks":
			c.Hooks.read(r)
		case "labels":
			jsonlite.Map(r, &c.Labels, jsonlite.String)
		case "version":
			jsonlite.String(r, &c.Version)
		case "mount_label":
			jsonlite.String(r, &c.MountLabel)
		case "personality":
			jsonlite.String(r, &c.Personality)
		case "time_offsets":
			jsonlite.Map(r, &c.TimeOffsets, ReadTimeOffset)
		default:
			r.Fail() // unknown, or another spelling: encoding/json's rules
		}
	}
}

func idMaps(w *jsonlite.Writer, key string, m []IDMap) {
	if len(m) == 0 {
		return
	}
	w.Key(key)
	jsonlite.WriteSlice(w, m, func(w *jsonlite.Writer, m IDMap) {
		w.Open('{')
		w.IntMember("container_id", m.ContainerID, jsonlite.KeepEmpty)
		w.IntMember("host_id", m.HostID, jsonlite.KeepEmpty)
		w.IntMember("size", m.Size, jsonlite.KeepEmpty)
		w.Close('}')
	})
}

func readIDMap(r *jsonlite.Reader, m *IDMap) {
	for k := range r.Object() {
		switch k {
		case "container_id":
			jsonlite.Int(r, &m.ContainerID)
		case "host_id":
			jsonlite.Int(r, &m.HostID)
		case "size":
			jsonlite.Int(r, &m.Size)
		default:
			r.Fail()
		}
	}
}

func (m *Mount) write(w *jsonlite.Writer) {
	w.Open('{')
	w.StringMember("source", m.Source, jsonlite.KeepEmpty)
	w.StringMember("destination", m.Destination, jsonlite.KeepEmpty)
	w.StringMember("device", m.Device, jsonlite.KeepEmpty)
	w.IntMember("flags", int64(m.Flags), jsonlite.OmitEmpty)
	w.IntMember("cleared_flags", int64(m.ClearedFlags), jsonlite.OmitEmpty)
	if len(m.PropagationFlags) > 0 {
		w.Key("propagation_flags")
		jsonlite.WriteSlice(w, m.PropagationFlags, writeInt)
	}
	w.StringMember("data", m.Data, jsonlite.OmitEmpty)
	w.StringsMember("options", m.Options, jsonlite.OmitEmpty)
	w.Close('}')
}

func (m *Mount) read(r *jsonlite.Reader) {
	for k := range r.Object() {
		switch k {
		case "source":
			jsonlite.String(r, &m.Source)
		case "destination":
			jsonlite.String(r, &m.Destination)
		case "device":
			jsonlite.String(r, &m.Device)
		case "flags":
			jsonlite.Int(r, &m.Flags)
		case "cleared_flags":
			jsonlite.Int(r, &m.ClearedFlags)
		case "propagation_flags":
			jsonlite.Slice(r, &m.PropagationFlags, jsonlite.Int)
		case "data":
			jsonlite.String(r, &m.Data)
		case "options":
			jsonlite.Strings(r, &m.Options)
		default:
			r.Fail()
		}
	}
}

var hookKeys = [...]string{"prestart", "create_runtime", "create_container", "start_container", "poststart", "poststop"}

func (h *Hooks) lists() [6]*[]Hook {
	return [...]*[]Hook{&h.Prestart, &h.CreateRuntime, &h.CreateContainer, &h.StartContainer, &h.Poststart, &h.Poststop}
}

func (h *Hooks) write(w *jsonlite.Writer) {
	w.Open('{')
	for i, l := range h.lists() {
		if len(*l) == 0 {
			continue
		}
		w.Key(hookKeys[i])
		jsonlite.WriteSlice(w, *l, func(w *jsonlite.Writer, h Hook) {
			w.Open('{')
			w.StringMember("path", h.Path, jsonlite.KeepEmpty)
			w.StringsMember("args", h.Args, jsonlite.OmitEmpty)
			w.StringsMember("env", h.Env, jsonlite.OmitEmpty)
			if h.Timeout != nil {
				w.IntMember("timeout", int64(*h.Timeout), jsonlite.KeepEmpty)
			}
			w.Close('}')
		})
	}
	w.Close('}')
}

func (h *Hooks) read(r *jsonlite.Reader) {
	lists := h.lists()
	for k := range r.Object() {
		i := slices.Index(hookKeys[:], k)
		if i < 0 {
			r.Fail()
			return
		}
		jsonlite.Slice(r, lists[i], ReadHook)
	}
}

// ReadTimeOffset reads a clock's offset, whose JSON is the same in the
// runtime spec's config.json (specconv reads a specs.LinuxTimeOffset with
// it: the same fields).
func ReadTimeOffset(r *jsonlite.Reader, t *TimeOffset) {
	for k := range r.Object() {
		switch k {
		case "secs":
			jsonlite.Int(r, &t.Secs)
		case "nanosecs":
			jsonlite.Uint(r, &t.Nanosecs)
		default:
			r.Fail()
		}
	}
}

// ReadHook reads a hook, whose JSON is the same in the runtime spec's
// config.json (specconv reads a specs.Hook with it: the same fields).
func ReadHook(r *jsonlite.Reader, h *Hook) {
	for k := range r.Object() {
		switch k {
		case "path":
			jsonlite.String(r, &h.Path)
		case "args":
			jsonlite.Strings(r, &h.Args)
		case "env":
			jsonlite.Strings(r, &h.Env)
		case "timeout":
			jsonlite.Ptr(r, &h.Timeout, jsonlite.Int)
		default:
			r.Fail()
		}
	}
}
