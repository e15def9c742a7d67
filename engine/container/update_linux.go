package container

import (
	"context"
	"errors"
	"fmt"

	containertypes "github.com/docker/docker/api/types/container"
	eventtypes "github.com/docker/docker/api/types/events"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// ResourceUpdater is what docker update needs from the runtime: new
// cgroup limits for a running container. The in-process libctr runtime
// has it; a runtime without it gets the new limits at the next start.
type ResourceUpdater interface {
	Update(ctx context.Context, id string, r *specs.LinuxResources) error
}

func errCannotUpdate(id string, err error) error {
	return fmt.Errorf("Cannot update container %s: %w", id, err)
}

// Update is POST /containers/{name}/update (docker update): the resources
// and restart policy given are recorded in the HostConfig and, when the
// container runs, applied to its cgroup at once; if the runtime refuses
// them the record is put back. Fields left zero are not changed.
func (s *Service) Update(ctx context.Context, name string, u containertypes.UpdateConfig) (containertypes.UpdateResponse, error) {
	c, err := s.store.Get(name)
	if err != nil {
		return containertypes.UpdateResponse{}, err
	}
	unlimitPids := u.PidsLimit != nil && *u.PidsLimit <= 0
	warnings, err := verifyResources(&u.Resources, readHostLimits())
	if err != nil {
		return containertypes.UpdateResponse{}, errdefs.InvalidParameter(err)
	}
	if u.RestartPolicy.Name != "" {
		if err := containertypes.ValidateRestartPolicy(u.RestartPolicy); err != nil {
			return containertypes.UpdateResponse{}, errdefs.InvalidParameter(err)
		}
	}
	l := s.live(c)
	l.op.Lock()
	defer l.op.Unlock()
	if c.State.RemovalInProgress || c.State.API().Dead {
		return containertypes.UpdateResponse{}, errdefs.Conflict(errCannotUpdate(c.ID, errors.New(`container is marked for removal and cannot be "update"`)))
	}
	c.Lock()
	old := c.HostConfig
	hc := *old
	if err := updateHostConfig(&hc, u, unlimitPids); err != nil {
		c.Unlock()
		return containertypes.UpdateResponse{}, errdefs.InvalidParameter(errCannotUpdate(c.ID, err))
	}
	c.HostConfig = &hc
	c.Unlock()
	if err := c.Save(); err != nil {
		return containertypes.UpdateResponse{}, errdefs.System(err)
	}
	st := c.State.API()
	if up, ok := s.cfg.Runtime.(ResourceUpdater); ok && st.Running && !st.Restarting && l.currentRun() != nil {
		r := resources(&hc)
		r.Devices = nil // fixed at create
		if unlimitPids {
			unlimited := int64(-1)
			r.Pids = &specs.LinuxPids{Limit: &unlimited}
		}
		if err := up.Update(ctx, c.ID, r); err != nil {
			c.Lock()
			c.HostConfig = old
			c.Unlock()
			if serr := c.Save(); serr != nil {
				s.log.Warn("container record not saved", "container", c.ID, "error", serr)
			}
			return containertypes.UpdateResponse{}, errdefs.System(errCannotUpdate(c.ID, err))
		}
	}
	s.event(ctx, c, eventtypes.ActionUpdate, nil)
	if warnings == nil {
		warnings = []string{}
	}
	return containertypes.UpdateResponse{Warnings: warnings}, nil
}

// updateHostConfig sets in hc what u changes, refusing what dockerd
// refuses: --cpus against a CPU period or quota already set and the
// reverse, a memory limit above the memory+swap limit without a new one,
// a restart policy on an --rm container.
func updateHostConfig(hc *containertypes.HostConfig, u containertypes.UpdateConfig, unlimitPids bool) error {
	r, cur := u.Resources, &hc.Resources
	switch {
	case r.NanoCPUs > 0 && cur.CPUPeriod > 0:
		return errors.New("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set")
	case r.NanoCPUs > 0 && cur.CPUQuota > 0:
		return errors.New("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set")
	case r.CPUPeriod > 0 && cur.NanoCPUs > 0:
		return errors.New("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set")
	case r.CPUQuota > 0 && cur.NanoCPUs > 0:
		return errors.New("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set")
	}
	if r.BlkioWeight != 0 {
		cur.BlkioWeight = r.BlkioWeight
	}
	if r.CPUShares != 0 {
		cur.CPUShares = r.CPUShares
	}
	if r.NanoCPUs != 0 {
		cur.NanoCPUs = r.NanoCPUs
	}
	if r.CPUPeriod != 0 {
		cur.CPUPeriod = r.CPUPeriod
	}
	if r.CPUQuota != 0 {
		cur.CPUQuota = r.CPUQuota
	}
	if r.CpusetCpus != "" {
		cur.CpusetCpus = r.CpusetCpus
	}
	if r.CpusetMems != "" {
		cur.CpusetMems = r.CpusetMems
	}
	if r.Memory != 0 {
		if cur.MemorySwap > 0 && r.Memory > cur.MemorySwap && r.MemorySwap == 0 {
			return errors.New("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
		}
		cur.Memory = r.Memory
	}
	if r.MemorySwap != 0 {
		cur.MemorySwap = r.MemorySwap
	}
	if r.MemoryReservation != 0 {
		cur.MemoryReservation = r.MemoryReservation
	}
	if cur.Memory > 0 && cur.MemoryReservation > 0 && cur.Memory < cur.MemoryReservation {
		return errors.New("Minimum memory limit can not be less than memory reservation limit, see usage")
	}
	if r.PidsLimit != nil || unlimitPids {
		cur.PidsLimit = r.PidsLimit
	}
	if u.RestartPolicy.Name != "" {
		if !u.RestartPolicy.IsNone() && hc.AutoRemove {
			return errors.New("Restart policy cannot be updated because AutoRemove is enabled for the container")
		}
		hc.RestartPolicy = u.RestartPolicy
	}
	return nil
}
