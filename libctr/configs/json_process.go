package configs

// The reflection-free JSON of Cgroup, Seccomp and Process (see json.go).

import (
	"slices"

	"github.com/wharf-project/wharf/internal/jsonlite"
)

func (c *Cgroup) write(w *jsonlite.Writer) {
	w.Open('{')
	w.StringMember("path", c.Path, jsonlite.KeepEmpty)
	w.Key("resources")
	if c.Resources == nil {
		w.Null()
	} else {
		c.Resources.write(w)
	}
	w.Close('}')
}

func (c *Cgroup) read(r *jsonlite.Reader) {
	for k := range r.Object() {
		switch k {
		case "path":
			jsonlite.String(r, &c.Path)
		case "resources":
			jsonlite.Ptr(r, &c.Resources, func(r *jsonlite.Reader, res *Resources) { res.read(r) })
		default:
			r.Fail()
		}
	}
}

var throttleKeys = [...]string{"blkio_throttle_read_bps", "blkio_throttle_write_bps", "blkio_throttle_read_iops", "blkio_throttle_write_iops"}

func (c *Resources) throttles() [4]*[]ThrottleDevice {
	return [...]*[]ThrottleDevice{&c.BlkioThrottleRead, &c.BlkioThrottleWrite, &c.BlkioThrottleReadIO, &c.BlkioThrottleWriteIO}
}

func (c *Resources) write(w *jsonlite.Writer) {
	w.Open('{')
	w.IntMember("memory", c.Memory, jsonlite.OmitEmpty)
	w.IntMember("memory_reservation", c.MemoryReservation, jsonlite.OmitEmpty)
	w.IntMember("memory_swap", c.MemorySwap, jsonlite.OmitEmpty)
	if c.MemorySwappiness != nil {
		w.IntMember("memory_swappiness", *c.MemorySwappiness, jsonlite.KeepEmpty)
	}
	w.IntMember("kernel_memory", c.KernelMemory, jsonlite.OmitEmpty)
	w.BoolMember("disable_oom_killer", c.DisableOOMKiller, jsonlite.OmitEmpty)
	w.UintMember("cpu_shares", c.CPUShares, jsonlite.OmitEmpty)
	w.IntMember("cpu_quota", c.CPUQuota, jsonlite.OmitEmpty)
	w.UintMember("cpu_period", c.CPUPeriod, jsonlite.OmitEmpty)
	w.UintMember("cpu_weight", c.CPUWeight, jsonlite.OmitEmpty)
	w.StringMember("cpuset_cpus", c.CpusetCpus, jsonlite.OmitEmpty)
	w.StringMember("cpuset_mems", c.CpusetMems, jsonlite.OmitEmpty)
	w.IntMember("pids_limit", c.PidsLimit, jsonlite.OmitEmpty)
	w.UintMember("blkio_weight", uint64(c.BlkioWeight), jsonlite.OmitEmpty)
	for i, l := range c.throttles() {
		if len(*l) == 0 {
			continue
		}
		w.Key(throttleKeys[i])
		jsonlite.WriteSlice(w, *l, func(w *jsonlite.Writer, d ThrottleDevice) {
			w.Open('{')
			w.IntMember("major", d.Major, jsonlite.KeepEmpty)
			w.IntMember("minor", d.Minor, jsonlite.KeepEmpty)
			w.UintMember("rate", d.Rate, jsonlite.KeepEmpty)
			w.Close('}')
		})
	}
	if len(c.HugetlbLimit) > 0 {
		w.Key("hugetlb_limit")
		jsonlite.WriteSlice(w, c.HugetlbLimit, func(w *jsonlite.Writer, h HugepageLimit) {
			w.Open('{')
			w.StringMember("page_size", h.Pagesize, jsonlite.KeepEmpty)
			w.UintMember("limit", h.Limit, jsonlite.KeepEmpty)
			w.Close('}')
		})
	}
	if len(c.Devices) > 0 {
		w.Key("devices")
		jsonlite.WriteSlice(w, c.Devices, func(w *jsonlite.Writer, d DeviceRule) {
			w.Open('{')
			w.IntMember("type", int64(d.Type), jsonlite.KeepEmpty)
			w.IntMember("major", d.Major, jsonlite.KeepEmpty)
			w.IntMember("minor", d.Minor, jsonlite.KeepEmpty)
			w.StringMember("access", d.Access, jsonlite.KeepEmpty)
			w.BoolMember("allow", d.Allow, jsonlite.KeepEmpty)
			w.Close('}')
		})
	}
	if len(c.Unified) > 0 {
		w.Key("unified")
		jsonlite.WriteMap(w, c.Unified, (*jsonlite.Writer).String)
	}
	w.UintMember("net_cls_classid", uint64(c.NetClsClassid), jsonlite.OmitEmpty)
	if len(c.NetPrio) > 0 {
		w.Key("net_prio")
		jsonlite.WriteSlice(w, c.NetPrio, func(w *jsonlite.Writer, p InterfacePrio) {
			w.Open('{')
			w.StringMember("interface", p.Interface, jsonlite.KeepEmpty)
			w.UintMember("priority", uint64(p.Priority), jsonlite.KeepEmpty)
			w.Close('}')
		})
	}
	w.StringMember("freezer", string(c.Freezer), jsonlite.OmitEmpty)
	w.Close('}')
}

func (c *Resources) read(r *jsonlite.Reader) {
	for k := range r.Object() {
		switch k {
		case "memory":
			jsonlite.Int(r, &c.Memory)
		case "memory_reservation":
			jsonlite.Int(r, &c.MemoryReservation)
		case "memory_swap":
			jsonlite.Int(r, &c.MemorySwap)
		case "memory_swappiness":
			jsonlite.Ptr(r, &c.MemorySwappiness, jsonlite.Int)
		case "kernel_memory":
			jsonlite.Int(r, &c.KernelMemory)
		case "disable_oom_killer":
			r.Bool(&c.DisableOOMKiller)
		case "cpu_shares":
			jsonlite.Uint(r, &c.CPUShares)
		case "cpu_quota":
			jsonlite.Int(r, &c.CPUQuota)
		case "cpu_period":
			jsonlite.Uint(r, &c.CPUPeriod)
		case "cpu_weight":
			jsonlite.Uint(r, &c.CPUWeight)
		case "cpuset_cpus":
			jsonlite.String(r, &c.CpusetCpus)
		case "cpuset_mems":
			jsonlite.String(r, &c.CpusetMems)
		case "pids_limit":
			jsonlite.Int(r, &c.PidsLimit)
		case "blkio_weight":
			jsonlite.Uint(r, &c.BlkioWeight)
		case "hugetlb_limit":
			jsonlite.Slice(r, &c.HugetlbLimit, func(r *jsonlite.Reader, h *HugepageLimit) {
				for k := range r.Object() {
					switch k {
					case "page_size":
						jsonlite.String(r, &h.Pagesize)
					case "limit":
						jsonlite.Uint(r, &h.Limit)
					default:
						r.Fail()
					}
				}
			})
		case "devices":
			jsonlite.Slice(r, &c.Devices, func(r *jsonlite.Reader, d *DeviceRule) {
				for k := range r.Object() {
					switch k {
					case "type":
						jsonlite.Int(r, &d.Type)
					case "major":
						jsonlite.Int(r, &d.Major)
					case "minor":
						jsonlite.Int(r, &d.Minor)
					case "access":
						jsonlite.String(r, &d.Access)
					case "allow":
						r.Bool(&d.Allow)
					default:
						r.Fail()
					}
				}
			})
		case "unified":
			jsonlite.Map(r, &c.Unified, jsonlite.String)
		case "net_cls_classid":
			jsonlite.Uint(r, &c.NetClsClassid)
		case "net_prio":
			jsonlite.Slice(r, &c.NetPrio, func(r *jsonlite.Reader, p *InterfacePrio) {
				for k := range r.Object() {
					switch k {
					case "interface":
						jsonlite.String(r, &p.Interface)
					case "priority":
						jsonlite.Uint(r, &p.Priority)
					default:
						r.Fail()
					}
				}
			})
		case "freezer":
			jsonlite.String(r, &c.Freezer)
		default: // the four blkio_throttle_* lists, or a key of encoding/json's
			i := slices.Index(throttleKeys[:], k)
			if i < 0 {
				r.Fail()
				return
			}
			jsonlite.Slice(r, c.throttles()[i], readThrottleDevice)
		}
	}
}

func readThrottleDevice(r *jsonlite.Reader, d *ThrottleDevice) {
	for k := range r.Object() {
		switch k {
		case "major":
			jsonlite.Int(r, &d.Major)
		case "minor":
			jsonlite.Int(r, &d.Minor)
		case "rate":
			jsonlite.Uint(r, &d.Rate)
		default:
			r.Fail()
		}
	}
}

func (s *Seccomp) write(w *jsonlite.Writer) {
	w.Open('{')
	w.StringMember("default_action", s.DefaultAction, jsonlite.KeepEmpty)
	if s.DefaultErrno != nil {
		w.UintMember("default_errno", uint64(*s.DefaultErrno), jsonlite.KeepEmpty)
	}
	w.StringsMember("architectures", s.Architectures, jsonlite.OmitEmpty)
	w.StringsMember("flags", s.Flags, jsonlite.OmitEmpty)
	if len(s.Syscalls) > 0 {
		w.Key("syscalls")
		jsonlite.WriteSlice(w, s.Syscalls, func(w *jsonlite.Writer, c SyscallRule) {
			w.Open('{')
			w.StringsMember("names", c.Names, jsonlite.KeepEmpty)
			w.StringMember("action", c.Action, jsonlite.KeepEmpty)
			if c.ErrnoRet != nil {
				w.UintMember("errno_ret", uint64(*c.ErrnoRet), jsonlite.KeepEmpty)
			}
			if len(c.Args) > 0 {
				w.Key("args")
				jsonlite.WriteSlice(w, c.Args, func(w *jsonlite.Writer, a Arg) {
					w.Open('{')
					w.UintMember("index", uint64(a.Index), jsonlite.KeepEmpty)
					w.UintMember("value", a.Value, jsonlite.KeepEmpty)
					w.UintMember("value_two", a.ValueTwo, jsonlite.OmitEmpty)
					w.StringMember("op", a.Op, jsonlite.KeepEmpty)
					w.Close('}')
				})
			}
			w.Close('}')
		})
	}
	w.StringMember("listener_path", s.ListenerPath, jsonlite.OmitEmpty)
	w.Close('}')
}

func (s *Seccomp) read(r *jsonlite.Reader) {
	for k := range r.Object() {
		switch k {
		case "default_action":
			jsonlite.String(r, &s.DefaultAction)
		case "default_errno":
			jsonlite.Ptr(r, &s.DefaultErrno, jsonlite.Uint)
		case "architectures":
			jsonlite.Strings(r, &s.Architectures)
		case "flags":
			jsonlite.Strings(r, &s.Flags)
		case "syscalls":
			jsonlite.Slice(r, &s.Syscalls, readSyscallRule)
		case "listener_path":
			jsonlite.String(r, &s.ListenerPath)
		default:
			r.Fail()
		}
	}
}

func readSyscallRule(r *jsonlite.Reader, c *SyscallRule) {
	for k := range r.Object() {
		switch k {
		case "names":
			jsonlite.Strings(r, &c.Names)
		case "action":
			jsonlite.String(r, &c.Action)
		case "errno_ret":
			jsonlite.Ptr(r, &c.ErrnoRet, jsonlite.Uint)
		case "args":
			jsonlite.Slice(r, &c.Args, func(r *jsonlite.Reader, a *Arg) {
				for k := range r.Object() {
					switch k {
					case "index":
						jsonlite.Uint(r, &a.Index)
					case "value":
						jsonlite.Uint(r, &a.Value)
					case "value_two":
						jsonlite.Uint(r, &a.ValueTwo)
					case "op":
						jsonlite.String(r, &a.Op)
					default:
						r.Fail()
					}
				}
			})
		default:
			r.Fail()
		}
	}
}

// WriteJSON appends p as json.Marshal would.
func (p *Process) WriteJSON(w *jsonlite.Writer) {
	w.Open('{')
	w.StringsMember("args", p.Args, jsonlite.KeepEmpty)
	w.StringsMember("env", p.Env, jsonlite.OmitEmpty)
	w.StringMember("cwd", p.Cwd, jsonlite.KeepEmpty)
	w.UintMember("uid", uint64(p.UID), jsonlite.KeepEmpty)
	w.UintMember("gid", uint64(p.GID), jsonlite.KeepEmpty)
	if len(p.AdditionalGids) > 0 {
		w.Key("additional_gids")
		jsonlite.WriteSlice(w, p.AdditionalGids, writeUint32)
	}
	if p.Umask != nil {
		w.UintMember("umask", uint64(*p.Umask), jsonlite.KeepEmpty)
	}
	w.BoolMember("terminal", p.Terminal, jsonlite.OmitEmpty)
	if c := p.Capabilities; c != nil {
		w.Key("capabilities")
		w.Open('{')
		w.StringsMember("bounding", c.Bounding, jsonlite.OmitEmpty)
		w.StringsMember("effective", c.Effective, jsonlite.OmitEmpty)
		w.StringsMember("inheritable", c.Inheritable, jsonlite.OmitEmpty)
		w.StringsMember("permitted", c.Permitted, jsonlite.OmitEmpty)
		w.StringsMember("ambient", c.Ambient, jsonlite.OmitEmpty)
		w.Close('}')
	}
	if len(p.Rlimits) > 0 {
		w.Key("rlimits")
		jsonlite.WriteSlice(w, p.Rlimits, func(w *jsonlite.Writer, l Rlimit) {
			w.Open('{')
			w.IntMember("type", int64(l.Type), jsonlite.KeepEmpty)
			w.UintMember("hard", l.Hard, jsonlite.KeepEmpty)
			w.UintMember("soft", l.Soft, jsonlite.KeepEmpty)
			w.Close('}')
		})
	}
	w.BoolMember("no_new_privileges", p.NoNewPrivileges, jsonlite.OmitEmpty)
	if p.OomScoreAdj != nil {
		w.IntMember("oom_score_adj", int64(*p.OomScoreAdj), jsonlite.KeepEmpty)
	}
	w.StringMember("apparmor_profile", p.ApparmorProfile, jsonlite.OmitEmpty)
	w.StringMember("selinux_label", p.SelinuxLabel, jsonlite.OmitEmpty)
	w.Close('}')
}

// ReadJSON decodes what WriteJSON writes into p; see jsonlite.Reader.
func (p *Process) ReadJSON(r *jsonlite.Reader) {
	for k := range r.Object() {
		switch k {
		case "args":
			jsonlite.Strings(r, &p.Args)
		case "env":
			jsonlite.Strings(r, &p.Env)
		case "cwd":
			jsonlite.String(r, &p.Cwd)
		case "uid":
			jsonlite.Uint(r, &p.UID)
		case "gid":
			jsonlite.Uint(r, &p.GID)
		case "additional_gids":
			jsonlite.Slice(r, &p.AdditionalGids, jsonlite.Uint)
		case "umask":
			jsonlite.Ptr(r, &p.Umask, jsonlite.Uint)
		case "terminal":
			r.Bool(&p.Terminal)
		case "capabilities":
			jsonlite.Ptr(r, &p.Capabilities, ReadCapabilities)
		case "rlimits":
			jsonlite.Slice(r, &p.Rlimits, func(r *jsonlite.Reader, l *Rlimit) {
				for k := range r.Object() {
					switch k {
					case "type":
						jsonlite.Int(r, &l.Type)
					case "hard":
						jsonlite.Uint(r, &l.Hard)
					case "soft":
						jsonlite.Uint(r, &l.Soft)
					default:
						r.Fail()
					}
				}
			})
		case "no_new_privileges":
			r.Bool(&p.NoNewPrivileges)
		case "oom_score_adj":
			jsonlite.Ptr(r, &p.OomScoreAdj, jsonlite.Int)
		case "apparmor_profile":
			jsonlite.String(r, &p.ApparmorProfile)
		case "selinux_label":
			jsonlite.String(r, &p.SelinuxLabel)
		default:
			r.Fail()
		}
	}
}

// ReadCapabilities reads the five capability sets, whose JSON is the same
// in the runtime spec's config.json (specconv reads a
// specs.LinuxCapabilities with it: the same fields).
func ReadCapabilities(r *jsonlite.Reader, c *Capabilities) {
	for k := range r.Object() {
		switch k {
		case "bounding":
			jsonlite.Strings(r, &c.Bounding)
		case "effective":
			jsonlite.Strings(r, &c.Effective)
		case "inheritable":
			jsonlite.Strings(r, &c.Inheritable)
		case "permitted":
			jsonlite.Strings(r, &c.Permitted)
		case "ambient":
			jsonlite.Strings(r, &c.Ambient)
		default:
			r.Fail()
		}
	}
}
