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
	"github.com/wharf-project/wharf/libctr/configs"
)

// readSpecFast decodes the first JSON value of b, as json.Decoder.Decode
// would; ok is false when encoding/json must do it instead. A null reads
// as no object at all, so it gives a zero Spec, as encoding/json does.
func readSpecFast(b []byte) (*specs.Spec, bool) {
	r := jsonlite.NewReader(b)
	var s specs.Spec
	for k := range r.Object() {
		switch k {
		case "ociVersion":
			jsonlite.String(r, &s.Version)
		case "process":
			jsonlite.Ptr(r, &s.Process, readProcess)
		case "root":
			jsonlite.Ptr(r, &s.Root, func(r *jsonlite.Reader, v *specs.Root) {
				for k := range r.Object() {
					switch k {
					case "path":
						jsonlite.String(r, &v.Path)
					case "readonly":
						r.Bool(&v.Readonly)
					default:
						r.Fail()
					}
				}
			})
		case "hostname":
			jsonlite.String(r, &s.Hostname)
		case "domainname":
			jsonlite.String(r, &s.Domainname)
		case "mounts":
			jsonlite.Slice(r, &s.Mounts, readMount)
		case "hooks":
			jsonlite.Ptr(r, &s.Hooks, readHooks)
		case "annotations":
			jsonlite.Map(r, &s.Annotations, jsonlite.String)
		case "linux":
			jsonlite.Ptr(r, &s.Linux, readLinux)
		default:
			r.Fail()
		}
	}
	return &s, r.Err() == nil
}

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
						jsonlite.Uint(r, &b.Height)
					case "width":
						jsonlite.Uint(r, &b.Width)
					default:
						r.Fail()
					}
				}
			})
		case "user":
			for k := range r.Object() {
				switch k {
				case "uid":
					jsonlite.Uint(r, &p.User.UID)
				case "gid":
					jsonlite.Uint(r, &p.User.GID)
				case "umask":
					jsonlite.Ptr(r, &p.User.Umask, jsonlite.Uint)
				case "additionalGids":
					jsonlite.Slice(r, &p.User.AdditionalGids, jsonlite.Uint)
				default:
					r.Fail()
				}
			}
		case "args":
			jsonlite.Strings(r, &p.Args)
		case "env":
			jsonlite.Strings(r, &p.Env)
		case "cwd":
			jsonlite.String(r, &p.Cwd)
		case "capabilities":
			jsonlite.Ptr(r, &p.Capabilities, func(r *jsonlite.Reader, c *specs.LinuxCapabilities) {
				configs.ReadCapabilities(r, (*configs.Capabilities)(c))
			})
		case "rlimits":
			jsonlite.Slice(r, &p.Rlimits, func(r *jsonlite.Reader, l *specs.POSIXRlimit) {
				for k := range r.Object() {
					switch k {
					case "type":
						jsonlite.String(r, &l.Type)
					case "hard":
						jsonlite.Uint(r, &l.Hard)
					case "soft":
						jsonlite.Uint(r, &l.Soft)
					default:
						r.Fail()
					}
				}
			})
		case "noNewPrivileges":
			r.Bool(&p.NoNewPrivileges)
		case "apparmorProfile":
			jsonlite.String(r, &p.ApparmorProfile)
		case "oomScoreAdj":
			jsonlite.Ptr(r, &p.OOMScoreAdj, jsonlite.Int)
		case "selinuxLabel":
			jsonlite.String(r, &p.SelinuxLabel)
		default:
			r.Fail()
		}
	}
}

func readIDMapping(r *jsonlite.Reader, m *specs.LinuxIDMapping) {
	for k := range r.Object() {
		switch k {
		case "containerID":
			jsonlite.Uint(r, &m.ContainerID)
		case "hostID":
			jsonlite.Uint(r, &m.HostID)
		case "size":
			jsonlite.Uint(r, &m.Size)
		default:
			r.Fail()
		}
	}
}

func readMount(r *jsonlite.Reader, m *specs.Mount) {
	for k := range r.Object() {
		switch k {
		case "destination":
			jsonlite.String(r, &m.Destination)
		case "type":
			jsonlite.String(r, &m.Type)
		case "source":
			jsonlite.String(r, &m.Source)
		case "options":
			jsonlite.Strings(r, &m.Options)
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
		jsonlite.Slice(r, l, func(r *jsonlite.Reader, h *specs.Hook) { configs.ReadHook(r, (*configs.Hook)(h)) })
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
			jsonlite.Map(r, &l.Sysctl, jsonlite.String)
		case "resources":
			jsonlite.Ptr(r, &l.Resources, readResources)
		case "cgroupsPath":
			jsonlite.String(r, &l.CgroupsPath)
		case "namespaces":
			jsonlite.Slice(r, &l.Namespaces, func(r *jsonlite.Reader, n *specs.LinuxNamespace) {
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
		case "devices":
			jsonlite.Slice(r, &l.Devices, func(r *jsonlite.Reader, d *specs.LinuxDevice) {
				for k := range r.Object() {
					switch k {
					case "path":
						jsonlite.String(r, &d.Path)
					case "type":
						jsonlite.String(r, &d.Type)
					case "major":
						jsonlite.Int(r, &d.Major)
					case "minor":
						jsonlite.Int(r, &d.Minor)
					case "fileMode":
						jsonlite.Ptr(r, &d.FileMode, jsonlite.Uint)
					case "uid":
						jsonlite.Ptr(r, &d.UID, jsonlite.Uint)
					case "gid":
						jsonlite.Ptr(r, &d.GID, jsonlite.Uint)
					default:
						r.Fail()
					}
				}
			})
		case "seccomp":
			jsonlite.Ptr(r, &l.Seccomp, readSeccomp)
		case "rootfsPropagation":
			jsonlite.String(r, &l.RootfsPropagation)
		case "maskedPaths":
			jsonlite.Strings(r, &l.MaskedPaths)
		case "readonlyPaths":
			jsonlite.Strings(r, &l.ReadonlyPaths)
		case "mountLabel":
			jsonlite.String(r, &l.MountLabel)
		case "personality":
			jsonlite.Ptr(r, &l.Personality, func(r *jsonlite.Reader, p *specs.LinuxPersonality) {
				for k := range r.Object() {
					switch k {
					case "domain":
						jsonlite.String(r, &p.Domain)
					case "flags":
						jsonlite.Slice(r, &p.Flags, jsonlite.String)
					default:
						r.Fail()
					}
				}
			})
		case "timeOffsets":
			jsonlite.Map(r, &l.TimeOffsets, func(r *jsonlite.Reader, t *specs.LinuxTimeOffset) {
				configs.ReadTimeOffset(r, (*configs.TimeOffset)(t))
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
						jsonlite.String(r, &d.Type)
					case "major":
						jsonlite.Ptr(r, &d.Major, jsonlite.Int)
					case "minor":
						jsonlite.Ptr(r, &d.Minor, jsonlite.Int)
					case "access":
						jsonlite.String(r, &d.Access)
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
						jsonlite.Ptr(r, &m.Limit, jsonlite.Int)
					case "reservation":
						jsonlite.Ptr(r, &m.Reservation, jsonlite.Int)
					case "swap":
						jsonlite.Ptr(r, &m.Swap, jsonlite.Int)
					case "kernel":
						jsonlite.Ptr(r, &m.Kernel, jsonlite.Int) //nolint:staticcheck // deprecated in the spec, still read
					case "kernelTCP":
						jsonlite.Ptr(r, &m.KernelTCP, jsonlite.Int) //nolint:staticcheck // deprecated in the spec, still read
					case "swappiness":
						jsonlite.Ptr(r, &m.Swappiness, jsonlite.Uint)
					case "disableOOMKiller":
						jsonlite.Ptr(r, &m.DisableOOMKiller, (*jsonlite.Reader).Bool)
					case "useHierarchy":
						jsonlite.Ptr(r, &m.UseHierarchy, (*jsonlite.Reader).Bool)
					case "checkBeforeUpdate":
						jsonlite.Ptr(r, &m.CheckBeforeUpdate, (*jsonlite.Reader).Bool)
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
						jsonlite.Ptr(r, &c.Shares, jsonlite.Uint)
					case "quota":
						jsonlite.Ptr(r, &c.Quota, jsonlite.Int)
					case "burst":
						jsonlite.Ptr(r, &c.Burst, jsonlite.Uint)
					case "period":
						jsonlite.Ptr(r, &c.Period, jsonlite.Uint)
					case "realtimeRuntime":
						jsonlite.Ptr(r, &c.RealtimeRuntime, jsonlite.Int)
					case "realtimePeriod":
						jsonlite.Ptr(r, &c.RealtimePeriod, jsonlite.Uint)
					case "cpus":
						jsonlite.String(r, &c.Cpus)
					case "mems":
						jsonlite.String(r, &c.Mems)
					case "idle":
						jsonlite.Ptr(r, &c.Idle, jsonlite.Int)
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
					jsonlite.Ptr(r, &p.Limit, jsonlite.Int)
				}
			})
		case "hugepageLimits":
			jsonlite.Slice(r, &res.HugepageLimits, func(r *jsonlite.Reader, h *specs.LinuxHugepageLimit) {
				for k := range r.Object() {
					switch k {
					case "pageSize":
						jsonlite.String(r, &h.Pagesize)
					case "limit":
						jsonlite.Uint(r, &h.Limit)
					default:
						r.Fail()
					}
				}
			})
		case "unified":
			jsonlite.Map(r, &res.Unified, jsonlite.String)
		default:
			r.Fail() // blockIO, network, rdma: encoding/json's
		}
	}
}

func readSeccomp(r *jsonlite.Reader, s *specs.LinuxSeccomp) {
	for k := range r.Object() {
		switch k {
		case "defaultAction":
			jsonlite.String(r, &s.DefaultAction)
		case "defaultErrnoRet":
			jsonlite.Ptr(r, &s.DefaultErrnoRet, jsonlite.Uint)
		case "architectures":
			jsonlite.Slice(r, &s.Architectures, jsonlite.String)
		case "flags":
			jsonlite.Slice(r, &s.Flags, jsonlite.String)
		case "listenerPath":
			jsonlite.String(r, &s.ListenerPath)
		case "listenerMetadata":
			jsonlite.String(r, &s.ListenerMetadata)
		case "syscalls":
			jsonlite.Slice(r, &s.Syscalls, func(r *jsonlite.Reader, c *specs.LinuxSyscall) {
				for k := range r.Object() {
					switch k {
					case "names":
						jsonlite.Strings(r, &c.Names)
					case "action":
						jsonlite.String(r, &c.Action)
					case "errnoRet":
						jsonlite.Ptr(r, &c.ErrnoRet, jsonlite.Uint)
					case "args":
						jsonlite.Slice(r, &c.Args, func(r *jsonlite.Reader, a *specs.LinuxSeccompArg) {
							for k := range r.Object() {
								switch k {
								case "index":
									jsonlite.Uint(r, &a.Index)
								case "value":
									jsonlite.Uint(r, &a.Value)
								case "valueTwo":
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
	var p specs.Process
	if jsonlite.Decode(b, &p, func(p *specs.Process, r *jsonlite.Reader) { readProcess(r, p) }) {
		return &p, nil
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
