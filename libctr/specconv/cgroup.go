package specconv

import (
	"fmt"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/libctr/configs"
)

func convertCgroup(spec *specs.Spec, opts Options, devs []configs.Device) (*configs.Cgroup, error) {
	cg := &configs.Cgroup{Resources: &configs.Resources{}}
	switch p := spec.Linux.CgroupsPath; {
	case p == "":
		root := opts.CgroupRoot
		if root == "" {
			root = "/wharf"
		}
		cg.Path = path.Join(root, opts.ID)
	case p[0] == '/':
		cg.Path = path.Clean(p)
	default:
		cg.Path = path.Join("/", p)
	}
	r := cg.Resources
	lr := spec.Linux.Resources
	if lr != nil {
		if m := lr.Memory; m != nil {
			r.Memory = deref(m.Limit)
			r.MemoryReservation = deref(m.Reservation)
			r.MemorySwap = deref(m.Swap)
			r.KernelMemory = deref(m.Kernel)
			if m.Swappiness != nil {
				if *m.Swappiness > 100 {
					return nil, fmt.Errorf("memory.swappiness %d above 100: %w", *m.Swappiness, configs.ErrInvalid)
				}
				v := int64(*m.Swappiness)
				r.MemorySwappiness = &v
			}
			r.DisableOOMKiller = m.DisableOOMKiller != nil && *m.DisableOOMKiller
		}
		if c := lr.CPU; c != nil {
			if c.Shares != nil {
				r.CPUShares = *c.Shares
			}
			r.CPUQuota = deref(c.Quota)
			if c.Period != nil {
				r.CPUPeriod = *c.Period
			}
			r.CpusetCpus, r.CpusetMems = c.Cpus, c.Mems
		}
		if p := lr.Pids; p != nil && p.Limit != nil {
			r.PidsLimit = *p.Limit
		}
		if b := lr.BlockIO; b != nil {
			if b.Weight != nil {
				r.BlkioWeight = *b.Weight
			}
			r.BlkioThrottleRead = throttle(b.ThrottleReadBpsDevice)
			r.BlkioThrottleWrite = throttle(b.ThrottleWriteBpsDevice)
			r.BlkioThrottleReadIO = throttle(b.ThrottleReadIOPSDevice)
			r.BlkioThrottleWriteIO = throttle(b.ThrottleWriteIOPSDevice)
		}
		for _, h := range lr.HugepageLimits {
			r.HugetlbLimit = append(r.HugetlbLimit, configs.HugepageLimit{Pagesize: h.Pagesize, Limit: h.Limit})
		}
		if n := lr.Network; n != nil {
			if n.ClassID != nil {
				r.NetClsClassid = *n.ClassID
			}
			for _, p := range n.Priorities {
				r.NetPrio = append(r.NetPrio, configs.InterfacePrio{Interface: p.Name, Priority: p.Priority})
			}
		}
		r.Unified = lr.Unified
		for _, d := range lr.Devices {
			rule := configs.DeviceRule{Type: 'a', Major: -1, Minor: -1, Access: d.Access, Allow: d.Allow}
			if d.Type != "" {
				rule.Type = rune(d.Type[0])
			}
			if d.Major != nil {
				rule.Major = *d.Major
			}
			if d.Minor != nil {
				rule.Minor = *d.Minor
			}
			if rule.Access == "" {
				rule.Access = "rwm"
			}
			r.Devices = append(r.Devices, rule)
		}
	}
	if len(r.Devices) == 0 {
		// No rules: deny everything and allow what the container needs,
		// as runc does.
		r.Devices = append(r.Devices, configs.DeviceRule{Type: 'a', Major: -1, Minor: -1, Access: "rwm"})
	}
	r.Devices = append(r.Devices, defaultAllow...)
	for _, d := range devs[len(DefaultDevices):] {
		if d.Type != 'c' && d.Type != 'b' {
			continue // a fifo needs no device cgroup rule
		}
		r.Devices = append(r.Devices, configs.DeviceRule{Type: d.Type, Major: d.Major, Minor: d.Minor, Access: "rwm", Allow: true})
	}
	return cg, nil
}

func throttle(in []specs.LinuxThrottleDevice) []configs.ThrottleDevice {
	var out []configs.ThrottleDevice
	for _, t := range in {
		out = append(out, configs.ThrottleDevice{Major: t.Major, Minor: t.Minor, Rate: t.Rate})
	}
	return out
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
