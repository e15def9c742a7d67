package inproc

import (
	"context"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/libctr/configs"
)

// Update applies new limits to a running container's cgroup (docker
// update): the limits it has now, with those lr sets replaced. Device
// rules are fixed at create and left alone.
func (r *Runtime) Update(ctx context.Context, id string, lr *specs.LinuxResources) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	res := configs.Resources{}
	if cur := c.c.Config().Cgroups; cur != nil && cur.Resources != nil {
		res = *cur.Resources
	}
	applyResources(&res, lr)
	res.Devices = nil
	return classify(c.c.Set(res))
}

// applyResources sets in res what lr sets.
func applyResources(res *configs.Resources, lr *specs.LinuxResources) {
	if lr == nil {
		return
	}
	if m := lr.Memory; m != nil {
		if m.Limit != nil {
			res.Memory = *m.Limit
		}
		if m.Reservation != nil {
			res.MemoryReservation = *m.Reservation
		}
		if m.Swap != nil {
			res.MemorySwap = *m.Swap
		}
	}
	if c := lr.CPU; c != nil {
		if c.Shares != nil {
			res.CPUShares = *c.Shares
		}
		if c.Quota != nil {
			res.CPUQuota = *c.Quota
		}
		if c.Period != nil {
			res.CPUPeriod = *c.Period
		}
		if c.Cpus != "" {
			res.CpusetCpus = c.Cpus
		}
		if c.Mems != "" {
			res.CpusetMems = c.Mems
		}
	}
	if p := lr.Pids; p != nil && p.Limit != nil {
		res.PidsLimit = *p.Limit
	}
	if b := lr.BlockIO; b != nil && b.Weight != nil {
		res.BlkioWeight = *b.Weight
	}
}

var _ container.ResourceUpdater = (*Runtime)(nil)
