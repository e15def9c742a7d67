package configs

// The reflection-free JSON of Cgroup, Seccomp and Process (see json.go).

import (
	"slices"

	"github.com/wharf-project/wharf/internal/jsonlite"
)

func (c *Cgroup) write(w *jsonlite.Writer) {
	w.Open('{')
	str(w, "path", c.Path, false)
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
	integer(w, "memory", c.Memory, true)
	integer(w, "memory_reservation", c.MemoryReservation, true)
	integer(w, "memory_swap", c.MemorySwap, true)
	if c.MemorySwappiness != nil {
		integer(w, "memory_swappiness", *c.MemorySwappiness, false)
	}
	integer(w, "kernel_memory", c.KernelMemory, true)
	boolean(w, "disable_oom_killer", c.DisableOOMKiller)
	unsigned(w, "cpu_shares", c.CPUShares, true)
	integer(w, "cpu_quota", c.CPUQuota, true)
	unsigned(w, "cpu_period", c.CPUPeriod, true)
	unsigned(w, "cpu_weight", c.CPUWeight, true)
	str(w, "cpuset_cpus", c.CpusetCpus, true)
	str(w, "cpuset_mems", c.CpusetMems, true)
	integer(w, "pids_limit", c.PidsLimit, true)
	unsigned(w, "blkio_weight", uint64(c.BlkioWeight), true)
	for i, l := range c.throttles() {
		if len(*l) == 0 {
			continue
		}
		w.Key(throttleKeys[i])
		jsonlite.WriteSlice(w, *l, func(w *jsonlite.Writer, d ThrottleDevice) {
			w.Open('{')
			integer(w, "major", d.Major, false)
			integer(w, "minor", d.Minor, false)
			unsigned(w, "rate", d.Rate, false)
			w.Close('}')
		})
	}
	if len(c.HugetlbLimit) > 0 {
		w.Key("hugetlb_limit")
		jsonlite.WriteSlice(w, c.HugetlbLimit, func(w *jsonlite.Writer, h HugepageLimit) {
			w.Open('{')
			str(w, "page_size", h.Pagesize, false)
			unsigned(w, "limit", h.Limit, false)
			w.Close('}')
		})
	}
	if len(c.Devices) > 0 {
		w.Key("devices")
		jsonlite.WriteSlice(w, c.Devices, func(w *jsonlite.Writer, d DeviceRule) {
			w.Open('{')
			integer(w, "type", int64(d.Type), false)
			integer(w, "major", d.Major, false)
			integer(w, "minor", d.Minor, false)
			str(w, "access", d.Access, false)
			w.Key("allow")
			w.Bool(d.Allow)
			w.Close('}')
		})
	}
	if len(c.Unified) > 0 {
		w.Key("unified")
		jsonlite.WriteMap(w, c.Unified, writeString)
	}
	unsigned(w, "net_cls_classid", uint64(c.NetClsClassid), true)
	if len(c.NetPrio) > 0 {
		w.Key("net_prio")
		jsonlite.WriteSlice(w, c.NetPrio, func(w *jsonlite.Writer, p InterfacePrio) {
			w.Open('{')
			str(w, "interface", p.Interface, false)
			unsigned(w, "priority", uint64(p.Priority), false)
			w.Close('}')
		})
	}
	str(w, "freezer", string(c.Freezer), true)
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
	str(w, "default_action", s.DefaultAction, false)
	if s.DefaultErrno != nil {
		unsigned(w, "default_errno", uint64(*s.DefaultErrno), false)
	}
	strs(w, "architectures", s.Architectures, true)
	strs(w, "flags", s.Flags, true)
	if len(s.Syscalls) > 0 {
		w.Key("syscalls")
		jsonlite.WriteSlice(w, s.Syscalls, func(w *jsonlite.Writer, c SyscallRule) {
			w.Open('{')
			strs(w, "names", c.Names, false)
			str(w, "action", c.Action, false)
			if c.ErrnoRet != nil {
				unsigned(w, "errno_ret", uint64(*c.ErrnoRet), false)
			}
			if len(c.Args) > 0 {
				w.Key("args")
				jsonlite.WriteSlice(w, c.Args, func(w *jsonlite.Writer, a Arg) {
					w.Open('{')
					unsigned(w, "index", uint64(a.Index), false)
					unsigned(w, "value", a.Value, false)
					unsigned(w, "value_two", a.ValueTwo, true)
					str(w, "op", a.Op, false)
					w.Close('}')
				})
			}
			w.Close('}')
		})
	}
	str(w, "listener_path", s.ListenerPath, true)
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
	strs(w, "args", p.Args, false)
	strs(w, "env", p.Env, true)
	str(w, "cwd", p.Cwd, false)
	unsigned(w, "uid", uint64(p.UID), false)
	unsigned(w, "gid", uint64(p.GID), false)
	if len(p.AdditionalGids) > 0 {
		w.Key("additional_gids")
		jsonlite.WriteSlice(w, p.AdditionalGids, writeUint32)
	}
	if p.Umask != nil {
		unsigned(w, "umask", uint64(*p.Umask), false)
	}
	boolean(w, "terminal", p.Terminal)
	if c := p.Capabilities; c != nil {
		w.Key("capabilities")
		w.Open('{')
		strs(w, "bounding", c.Bounding, true)
		strs(w, "effective", c.Effective, true)
		strs(w, "inheritable", c.Inheritable, true)
		strs(w, "permitted", c.Permitted, true)
		strs(w, "ambient", c.Ambient, true)
		w.Close('}')
	}
	if len(p.Rlimits) > 0 {
		w.Key("rlimits")
		jsonlite.WriteSlice(w, p.Rlimits, func(w *jsonlite.Writer, l Rlimit) {
			w.Open('{')
			integer(w, "type", int64(l.Type), false)
			unsigned(w, "hard", l.Hard, false)
			unsigned(w, "soft", l.Soft, false)
			w.Close('}')
		})
	}
	boolean(w, "no_new_privileges", p.NoNewPrivileges)
	if p.OomScoreAdj != nil {
		integer(w, "oom_score_adj", int64(*p.OomScoreAdj), false)
	}
	str(w, "apparmor_profile", p.ApparmorProfile, true)
	str(w, "selinux_label", p.SelinuxLabel, true)
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
			jsonlite.Ptr(r, &p.Capabilities, func(r *jsonlite.Reader, c *Capabilities) {
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
			})
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
