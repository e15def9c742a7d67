package libctr

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/cgroups"
	"github.com/wharf-project/wharf/libctr/configs"
)

// freezeTimeout bounds a pause or resume; freezing waits for every task to
// reach a freezable point, which on a loaded machine can take a while.
const freezeTimeout = 60 * time.Second

// Signal sends sig to the init, or with all to every process in the
// container's cgroup (frozen first, so that none forks meanwhile).
func (c *Container) Signal(sig syscall.Signal, all bool) error {
	st := c.Status()
	if st == Stopped || st == Creating {
		return fmt.Errorf("container %s: %w", c.id, ErrNotRunning)
	}
	if !all {
		return syscall.Kill(c.state.InitPid, sig)
	}
	return c.signalAll(sig)
}

func (c *Container) signalAll(sig syscall.Signal) error {
	ctx, cancel := context.WithTimeout(context.Background(), freezeTimeout)
	defer cancel()
	wasFrozen, _ := c.cgroup.FreezerState()
	froze := wasFrozen != configs.Frozen && c.cgroup.Freeze(ctx, configs.Frozen) == nil
	pids, err := c.cgroup.Pids()
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return err
		}
	}
	// Frozen tasks cannot die: thaw after a SIGKILL even if paused.
	if froze || (sig == syscall.SIGKILL && wasFrozen == configs.Frozen) {
		_ = c.cgroup.Freeze(ctx, configs.Thawed)
	}
	return err
}

// settleCgroups waits for cgroups made from Create on that no Start took
// (Factory.CgroupsAtCreate), so that nothing writes to them behind the
// caller's back.
func (c *Container) settleCgroups() {
	if c.early != nil {
		c.early.drop()
		c.early = nil
	}
}

// Pause freezes every process of the container.
func (c *Container) Pause() error {
	if st := c.Status(); st != Running && st != Created {
		return fmt.Errorf("container %s is %s: %w", c.id, st, ErrBadState)
	}
	ctx, cancel := context.WithTimeout(context.Background(), freezeTimeout)
	defer cancel()
	return c.cgroup.Freeze(ctx, configs.Frozen)
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	if st := c.Status(); st != Paused {
		return fmt.Errorf("container %s is %s, not paused: %w", c.id, st, ErrBadState)
	}
	ctx, cancel := context.WithTimeout(context.Background(), freezeTimeout)
	defer cancel()
	return c.cgroup.Freeze(ctx, configs.Thawed)
}

// Processes lists the host pids of every process in the container.
func (c *Container) Processes() ([]int, error) { return c.cgroup.Pids() }

// Set changes the resource limits of a running container and records them.
func (c *Container) Set(r configs.Resources) error {
	if err := r.Validate(); err != nil {
		return err
	}
	c.settleCgroups()
	if err := c.cgroup.Set(&r); err != nil {
		return err
	}
	c.state.Config.Cgroups.Resources = &r
	return c.save()
}

// NotifyOOM delivers a value for each OOM event in the container.
func (c *Container) NotifyOOM(ctx context.Context) (<-chan struct{}, error) {
	return c.cgroup.NotifyOOM(ctx)
}

// Stats are the cgroup counters plus the network interfaces seen from
// inside the container's network namespace.
type Stats struct {
	Cgroup     *cgroups.Stats   `json:"cgroup"`
	Interfaces []InterfaceStats `json:"network_interfaces,omitempty"`
	OOMKills   uint64           `json:"oom_kills"`
}

// InterfaceStats is one line of /proc/<pid>/net/dev.
type InterfaceStats struct {
	Name      string `json:"name"`
	RxBytes   uint64 `json:"rx_bytes"`
	RxPackets uint64 `json:"rx_packets"`
	RxErrors  uint64 `json:"rx_errors"`
	RxDropped uint64 `json:"rx_dropped"`
	TxBytes   uint64 `json:"tx_bytes"`
	TxPackets uint64 `json:"tx_packets"`
	TxErrors  uint64 `json:"tx_errors"`
	TxDropped uint64 `json:"tx_dropped"`
}

// Stats reads the container's counters.
func (c *Container) Stats() (*Stats, error) {
	cs, err := c.cgroup.Stats()
	if err != nil {
		return nil, err
	}
	s := &Stats{Cgroup: cs}
	s.OOMKills, _ = c.cgroup.OOMKillCount()
	if c.state.Config.Namespaces.Contains(configs.NEWNET) && alive(c.state.InitPid, c.state.InitStartTime) {
		s.Interfaces, _ = netDev(c.state.InitPid)
	}
	return s, nil
}

func netDev(pid int) ([]InterfaceStats, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/net/dev")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []InterfaceStats
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v := strings.Fields(rest)
		if len(v) < 16 {
			continue
		}
		n := func(i int) uint64 { x, _ := strconv.ParseUint(v[i], 10, 64); return x }
		out = append(out, InterfaceStats{Name: strings.TrimSpace(name), RxBytes: n(0), RxPackets: n(1), RxErrors: n(2), RxDropped: n(3),
			TxBytes: n(8), TxPackets: n(9), TxErrors: n(10), TxDropped: n(11)})
	}
	return out, sc.Err()
}

// Destroy kills every process left in the container, waits for them to
// go, removes the cgroups and the state directory, and runs the poststop
// hooks. It is safe on a container in any status.
func (c *Container) Destroy() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*freezeTimeout)
	defer cancel()
	c.settleCgroups()
	c.closeTaskFiles()
	var errs []error
	initFd := -1
	if c.state.InitPid != 0 {
		initFd = c.openInit()
	}
	if initFd >= 0 {
		defer unix.Close(initFd)
		_ = unix.PidfdSendSignal(initFd, unix.SIGKILL, nil, 0)
	}
	if st, _ := c.cgroup.FreezerState(); st == configs.Frozen {
		_ = c.cgroup.Freeze(ctx, configs.Thawed) // frozen tasks cannot die
	}
	if initFd >= 0 {
		// With a pid namespace the kernel has killed the rest by the time
		// the init is gone, and an exited task has left its cgroups: the
		// loop below then finds none, without sleeping.
		waitPidfd(ctx, initFd)
	}
	c.releaseMonitor() // one that waits for an adopter
	if c.cgroup.Exists() {
		// With a pid namespace the kernel kills the rest once the init
		// is gone; without one, or when something forks meanwhile, every
		// pid left gets a SIGKILL, and after a few rounds the cgroup is
		// frozen around the kill so that nothing can fork in between.
		delay := 100 * time.Microsecond
		for round := 0; ; round++ {
			pids, err := c.cgroup.Pids()
			if err != nil || len(pids) == 0 {
				break
			}
			if round < 20 {
				for _, pid := range pids {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			} else {
				_ = c.signalAll(syscall.SIGKILL)
			}
			if ctx.Err() != nil {
				errs = append(errs, fmt.Errorf("processes %v did not die", pids))
				break
			}
			time.Sleep(delay)
			delay = min(2*delay, 10*time.Millisecond)
		}
		if err := c.cgroup.Destroy(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if c.init != nil && (c.init.cmd != nil || c.init.proc != nil || c.init.adopted != nil) {
		_, _ = c.init.Wait() // reap our own child
	}
	if c.state.InitPid != 0 {
		if err := c.runStateHooks(c.state.Config.Hooks.Poststop); err != nil {
			errs = append(errs, err)
		}
	}
	if err := removeStateDir(c.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeStateDir removes a container's state directory. By then it holds
// state.json only (Exec removed the fifo; a save's temporary file is
// swapped in and removed as soon as written), so an unlink and an rmdir do it, where os.RemoveAll's probing,
// reading of the directory and retries take ten system calls (~0.15 ms on
// ext4 here, on the way out of every `run`). Anything else there falls back
// to os.RemoveAll.
func removeStateDir(dir string) error {
	if err := unix.Unlink(filepath.Join(dir, stateFile)); err != nil && err != unix.ENOENT {
		return os.RemoveAll(dir)
	}
	if err := unix.Rmdir(dir); err != nil && err != unix.ENOENT {
		return os.RemoveAll(dir)
	}
	return nil
}

// openInit returns a pidfd of the container's init, or -1 when it is gone.
// The pidfd pins the process: a signal through it cannot reach a later
// process that reused the pid, which the start time check (made after
// opening) rules out for the pidfd itself.
func (c *Container) openInit() int {
	fd, err := unix.PidfdOpen(c.state.InitPid, 0)
	if err != nil {
		return -1
	}
	if !alive(c.state.InitPid, c.state.InitStartTime) {
		unix.Close(fd)
		return -1
	}
	return fd
}

// waitPidfd waits until the process of pidfd has exited, or ctx ends.
func waitPidfd(ctx context.Context, pidfd int) {
	pfd := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for ctx.Err() == nil {
		n, err := unix.Poll(pfd, 100)
		if n > 0 || (err != nil && !errors.Is(err, unix.EINTR)) {
			return
		}
	}
}
