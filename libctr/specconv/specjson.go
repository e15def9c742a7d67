package specconv

// A bundle's config.json read without reflection. `wharf runtime create`
// and `run` are new processes that decode one spec each, and
// encoding/json's first use of the runtime-spec types (some fifty, built
// into field tables and encoders by reflection) cost ~0.6 ms of each. The
// fast reader knows the fields a Linux container's spec uses; at anything
// else (another platform's section, a field it lacks, an escape in a
// string) it gives up and the spec is decoded by encoding/json, so the
// result, or the error, is always encoding/json's. See
// internal/jsonlite.

import (
	"encoding/json"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/internal/jsonlite"
)

// readSpecFast decodes the first JSON value of b, as json.Decoder.Decode
// would; ok is false when encoding/json must do it instead.
func readSpecFast(b []byte) (*specs.Spec, bool) {
	r := jsonlite.NewReader(b)
	var s specs.Spec
	if r.Null() {
		return nil, false // a literal null: left to encoding/json
	}
	for k := range r.Object() {
		switch k {
		case "ociVersion":
			str(r, &s.Version)
		case "process":
			jsonlite.Ptr(r, &s.Process, readProcess)
		case "root":
			jsonlite.Ptr(r, &s.Root, func(r *jsonlite.Reader, v *specs.Root) {
				for k := range r.Object() {
					switch k {
					case "path":
						str(r, &v.Path)
					case "readonly":
						r.Bool(&v.Readonly)
					default:
						r.Fail()
					}
				}
			})
		case "hostname":
			str(r, &s.Hostname)
		case "domainname":
			str(r, &s.Domainname)
		case "mounts":
			jsonlite.Slice(r, &s.Mounts, readMount)
		case "hooks":
			jsonlite.Ptr(r, &s.Hooks, readHooks)
		case "annotations":
			jsonlite.Map(r, &s.Annotations, str)
		case "linux":
			jsonlite.Ptr(r, &s.Linux, readLinux)
		default:
			r.Fail()
		}
	}
	return &s, r.Err() == nil
}

func str[S ~string](r *jsonlite.Reader, v *S) { jsonlite.String(r, v) }
func strs(r *jsonlite.Reader, v *[]string)    { jsonlite.Slice(r, v, str) }

func u32(r *jsonlite.Reader, v *uint32) { jsonlite.Uint(r, v) }
func u64(r *jsonlite.Reader, v *uint64) { jsonlite.Uint(r, v) }
func i64(r *jsonlite.Reader, v *int64)  { jsonlite.Int(r, v) }
func uns(r *jsonlite.Reader, v *uint)   { jsonlite.Uint(r, v) }
func integer(r *jsonlite.Reader, v *int) {
	jsonlite.Int(r, v)
}
func boolean(r *jsonlite.Reader, v *bool) { r.Bool(v) }

func readProcess(r *jsonlite.Reader, p *specs.Process) {
	for k := range r.Object() {
		switch k {
		case "terminal":
			r.Bool(&p.Terminal)
		case "consoleSize":
			jsonlite.Ptr(r, &p.ConsoleSize, func(r *jsonlite.Reader, b *specs.Box) {
				for k := range r.Object() {
					switch k {
					case "height":
						uns(r, &b.Height)
					case "width":
						uns(r, &b.Width)
					default:
						r.Fail()
					}
				}
			})
		case "user":
			for k := range r.Object() {
				switch k {
				case "uid":
					u32(r, &p.User.UID)
				case "gid":
					u32(r, &p.User.GID)
				case "umask":
					jsonlite.Ptr(r, &p.User.Umask, u32)
				case "additionalGids":
					jsonlite.Slice(r, &p.User.AdditionalGids, u32)
				default:
					r.Fail()
				}
			}
		case "args":
			strs(r, &p.Args)
		case "env":
			strs(r, &p.Env)
		case "cwd":
			str(r, &p.Cwd)
		case "capabilities":
			jsonlite.Ptr(r, &p.Capabilities, func(r *jsonlite.Reader, c *specs.LinuxCapabilities) {
				for k := range r.Object() {
					switch k {
					case "bounding":
						strs(r, &c.Bounding)
					case "effective":
						strs(r, &c.Effective)
					case "inheritable":
						strs(r, &c.Inheritable)
					case "permitted":
						strs(r, &c.Permitted)
					case "ambient":
						strs(r, &c.Ambient)
					default:
						r.Fail()
					}
				}
			})
		case "rlimits":
			jsonlite.Slice(r, &p.Rlimits, func(r *jsonlite.Reader, l *specs.POSIXRlimit) {
				for k := range r.Object() {
					switch k {
					case "type":
						str(r, &l.Type)
					case "hard":
						u64(r, &l.Hard)
					case "soft":
						u64(r, &l.Soft)
					default:
						r.Fail()
					}
				}
			})
		case "noNewPrivileges":
			r.Bool(&p.NoNewPrivileges)
		case "apparmorProfile":
			str(r, &p.ApparmorProfile)
		case "oomScoreAdj":
			jsonlite.Ptr(r, &p.OOMScoreAdj, integer)
		case "selinuxLabel":
			str(r, &p.SelinuxLabel)
		default:
			r.Fail()
		}
	}
}

func readIDMapping(r *jsonlite.Reader, m *specs.LinuxIDMapping) {
	for k := range r.Object() {
		switch k {
		case "containerID":
			u32(r, &m.ContainerID)
		case "hostID":
			u32(r, &m.HostID)
		case "size":
			u32(r, &m.Size)
		default:
			r.Fail()
		}
	}
}

func readMount(r *jsonlite.Reader, m *specs.Mount) {
	for k := range r.Object() {
		switch k {
		case "destination":
			str(r, &m.Destination)
		case "type":
			str(r, &m.Type)
		case "source":
			str(r, &m.Source)
		case "options":
			strs(r, &m.Options)
		case "uidMappings":
			jsonlite.Slice(r, &m.UIDMappings, readIDMapping)
		case "gidMappings":
			jsonlite.Slice(r, &m.GIDMappings, readIDMapping)
		default:
			r.Fail()
		}
	}
}

func readHooks(r *jsonlite.Reader, h *specs.Hooks) {
	for k := range r.Object() {
		var l *[]specs.Hook
		switch k {
		case "prestart":
			l = &h.Prestart //nolint:staticcheck // deprecated in the spec, still honoured
		case "createRuntime":
			l = &h.CreateRuntime
		case "createContainer":
			l = &h.CreateContainer
		case "startContainer":
			l = &h.StartContainer
		case "poststart":
			l = &h.Poststart
		case "poststop":
			l = &h.Poststop
		default:
			r.Fail()
			return
		}
		jsonlite.Slice(r, l, func(r *jsonlite.Reader, h *specs.Hook) {
			for k := range r.Object() {
				switch k {
				case "path":
					str(r, &h.Path)
				case "args":
					strs(r, &h.Args)
				case "env":
					strs(r, &h.Env)
				case "timeout":
					jsonlite.Ptr(r, &h.Timeout, integer)
				default:
					r.Fail()
				}
			}
		})
	}
}

func readLinux(r *jsonlite.Reader, l *specs.Linux) {
	for k := range r.Object() {
		switch k {
		case "uidMappings":
			jsonlite.Slice(r, &l.UIDMappings, readIDMapping)
		case "gidMappings":
			jsonlite.Slice(r, &l.GIDMappings, readIDMapping)
		case "sysctl":
			jsonlite.Map(r, &l.Sysctl, str)
		case "resources":
			jsonlite.Ptr(r, &l.Resources, readResources)
		case "cgroupsPath":
			str(r, &l.CgroupsPath)
		case "namespaces":
			jsonlite.Slice(r, &l.Namespaces, func(r *jsonlite.Reader, n *specs.LinuxNamespace) {
				for k := range r.Object() {
					switch k {
					case "type":
						str(r, &n.Type)
					case "path":
						str(r, &n.Path)
					default:
						r.Fail()
					}
				}
			})
		case "devices":
			jsonlite.Slice(r, &l.Devices, func(r *jsonlite.Reader, d *specs.LinuxDevice) {
				for k := range r.Object() {
					switch k {
					case "path":
						str(r, &d.Path)
					case "type":
						str(r, &d.Type)
					case "major":
						i64(r, &d.Major)
					case "minor":
						i64(r, &d.Minor)
					case "fileMode":
						jsonlite.Ptr(r, &d.FileMode, jsonlite.Uint)
					case "uid":
						jsonlite.Ptr(r, &d.UID, u32)
					case "gid":
						jsonlite.Ptr(r, &d.GID, u32)
					default:
						r.Fail()
					}
				}
			})
		case "seccomp":
			jsonlite.Ptr(r, &l.Seccomp, readSeccomp)
		case "rootfsPropagation":
			str(r, &l.RootfsPropagation)
		case "maskedPaths":
			strs(r, &l.MaskedPaths)
		case "readonlyPaths":
			strs(r, &l.ReadonlyPaths)
		case "mountLabel":
			str(r, &l.MountLabel)
		case "personality":
			jsonlite.Ptr(r, &l.Personality, func(r *jsonlite.Reader, p *specs.LinuxPersonality) {
				for k := range r.Object() {
					switch k {
					case "domain":
						str(r, &p.Domain)
					case "flags":
						jsonlite.Slice(r, &p.Flags, str)
					default:
						r.Fail()
					}
				}
			})
		case "timeOffsets":
			jsonlite.Map(r, &l.TimeOffsets, func(r *jsonlite.Reader, t *specs.LinuxTimeOffset) {
				for k := range r.Object() {
					switch k {
					case "secs":
						i64(r, &t.Secs)
					case "nanosecs":
						u32(r, &t.Nanosecs)
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

func readResources(r *jsonlite.Reader, res *specs.LinuxResources) {
	for k := range r.Object() {
		switch k {
		case "devices":
			jsonlite.Slice(r, &res.Devices, func(r *jsonlite.Reader, d *specs.LinuxDeviceCgroup) {
				for k := range r.Object() {
					switch k {
					case "allow":
						r.Bool(&d.Allow)
					case "type":
						str(r, &d.Type)
					case "major":
						jsonlite.Ptr(r, &d.Major, i64)
					case "minor":
						jsonlite.Ptr(r, &d.Minor, i64)
					case "access":
						str(r, &d.Access)
					default:
						r.Fail()
					}
				}
			})
		case "memory":
			jsonlite.Ptr(r, &res.Memory, func(r *jsonlite.Reader, m *specs.LinuxMemory) {
				for k := range r.Object() {
					switch k {
					case "limit":
						jsonlite.Ptr(r, &m.Limit, i64)
					case "reservation":
						jsonlite.Ptr(r, &m.Reservation, i64)
					case "swap":
						jsonlite.Ptr(r, &m.Swap, i64)
					case "kernel":
						jsonlite.Ptr(r, &m.Kernel, i64) //nolint:staticcheck // deprecated in the spec, still read
					case "kernelTCP":
						jsonlite.Ptr(r, &m.KernelTCP, i64) //nolint:staticcheck // deprecated in the spec, still read
					case "swappiness":
						jsonlite.Ptr(r, &m.Swappiness, u64)
					case "disableOOMKiller":
						jsonlite.Ptr(r, &m.DisableOOMKiller, boolean)
					case "useHierarchy":
						jsonlite.Ptr(r, &m.UseHierarchy, boolean)
					case "checkBeforeUpdate":
						jsonlite.Ptr(r, &m.CheckBeforeUpdate, boolean)
					default:
						r.Fail()
					}
				}
			})
		case "cpu":
			jsonlite.Ptr(r, &res.CPU, func(r *jsonlite.Reader, c *specs.LinuxCPU) {
				for k := range r.Object() {
					switch k {
					case "shares":
						jsonlite.Ptr(r, &c.Shares, u64)
					case "quota":
						jsonlite.Ptr(r, &c.Quota, i64)
					case "burst":
						jsonlite.Ptr(r, &c.Burst, u64)
					case "period":
						jsonlite.Ptr(r, &c.Period, u64)
					case "realtimeRuntime":
						jsonlite.Ptr(r, &c.RealtimeRuntime, i64)
					case "realtimePeriod":
						jsonlite.Ptr(r, &c.RealtimePeriod, u64)
					case "cpus":
						str(r, &c.Cpus)
					case "mems":
						str(r, &c.Mems)
					case "idle":
						jsonlite.Ptr(r, &c.Idle, i64)
					default:
						r.Fail()
					}
				}
			})
		case "pids":
			jsonlite.Ptr(r, &res.Pids, func(r *jsonlite.Reader, p *specs.LinuxPids) {
				for k := range r.Object() {
					if k != "limit" {
						r.Fail()
						return
					}
					jsonlite.Ptr(r, &p.Limit, i64)
				}
			})
		case "hugepageLimits":
			jsonlite.Slice(r, &res.HugepageLimits, func(r *jsonlite.Reader, h *specs.LinuxHugepageLimit) {
				for k := range r.Object() {
					switch k {
					case "pageSize":
						str(r, &h.Pagesize)
					case "limit":
						u64(r, &h.Limit)
					default:
						r.Fail()
					}
				}
			})
		case "unified":
			jsonlite.Map(r, &res.Unified, str)
		default:
			r.Fail() // blockIO, network, rdma: encoding/json's
		}
	}
}

func readSeccomp(r *jsonlite.Reader, s *specs.LinuxSeccomp) {
	for k := range r.Object() {
		switch k {
		case "defaultAction":
			str(r, &s.DefaultAction)
		case "defaultErrnoRet":
			jsonlite.Ptr(r, &s.DefaultErrnoRet, uns)
		case "architectures":
			jsonlite.Slice(r, &s.Architectures, str)
		case "flags":
			jsonlite.Slice(r, &s.Flags, str)
		case "listenerPath":
			str(r, &s.ListenerPath)
		case "listenerMetadata":
			str(r, &s.ListenerMetadata)
		case "syscalls":
			jsonlite.Slice(r, &s.Syscalls, func(r *jsonlite.Reader, c *specs.LinuxSyscall) {
				for k := range r.Object() {
					switch k {
					case "names":
						strs(r, &c.Names)
					case "action":
						str(r, &c.Action)
					case "errnoRet":
						jsonlite.Ptr(r, &c.ErrnoRet, uns)
					case "args":
						jsonlite.Slice(r, &c.Args, func(r *jsonlite.Reader, a *specs.LinuxSeccompArg) {
							for k := range r.Object() {
								switch k {
								case "index":
									uns(r, &a.Index)
								case "value":
									u64(r, &a.Value)
								case "valueTwo":
									u64(r, &a.ValueTwo)
								case "op":
									str(r, &a.Op)
								default:
									r.Fail()
								}
							}
						})
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

// DecodeProcess is json.Unmarshal of a spec's process object (an exec's
// --process file, as containerd writes it for every exec), with the fast
// reader for the fields it knows.
func DecodeProcess(b []byte) (*specs.Process, error) {
	r := jsonlite.NewReader(b)
	var p specs.Process
	if !r.Null() {
		readProcess(r, &p)
		if r.End() == nil {
			return &p, nil
		}
	}
	p = specs.Process{}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
