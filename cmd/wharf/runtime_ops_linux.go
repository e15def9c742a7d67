package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/specconv"
)

// runcEvent is one line of `runc events`: a stats sample or an OOM.
type runcEvent struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// runcStats is the data of a stats event, in runc's shape.
type runcStats struct {
	*libctrCgroupStats
	NetworkInterfaces []libctr.InterfaceStats `json:"network_interfaces,omitempty"`
}

func statsEvent(c *libctr.Container) (runcEvent, error) {
	s, err := c.Stats()
	if err != nil {
		return runcEvent{}, err
	}
	return runcEvent{Type: "stats", ID: c.ID(), Data: runcStats{libctrCgroupStats: s.Cgroup, NetworkInterfaces: s.Interfaces}}, nil
}

func init() { addCommand("runtime", addOpsCmds) }

func addOpsCmds() {
	simple := func(use, short string, op func(*libctr.Container) error) *cobra.Command {
		return &cobra.Command{
			Use: use + " <container-id>", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := loadContainer(args[0])
				if err != nil {
					return logged(err)
				}
				return logged(op(c))
			},
		}
	}
	pause := simple("pause", "Freeze every process of a container", (*libctr.Container).Pause)
	resume := simple("resume", "Thaw a paused container", (*libctr.Container).Resume)

	var stats bool
	var interval time.Duration
	events := &cobra.Command{
		Use:   "events [--stats] [--interval 5s] <container-id>",
		Short: "Print the container's stats (once with --stats) and OOM events as JSON lines",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(args[0])
			if err != nil {
				return logged(err)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			if stats {
				ev, err := statsEvent(c)
				if err != nil {
					return logged(err)
				}
				return enc.Encode(ev)
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			ooms, err := c.NotifyOOM(ctx)
			if err != nil {
				return logged(err)
			}
			tick := time.NewTicker(interval)
			defer tick.Stop()
			if ev, err := statsEvent(c); err == nil { // a first sample at once
				if err := enc.Encode(ev); err != nil {
					return err
				}
			}
			for {
				select {
				case _, ok := <-ooms:
					if !ok {
						return nil // the cgroup is gone
					}
					if err := enc.Encode(runcEvent{Type: "oom", ID: c.ID()}); err != nil {
						return err
					}
				case <-tick.C:
					if c.Status() == libctr.Stopped {
						return nil
					}
					ev, err := statsEvent(c)
					if err != nil {
						return logged(err)
					}
					if err := enc.Encode(ev); err != nil {
						return err
					}
				}
			}
		},
	}
	events.Flags().BoolVar(&stats, "stats", false, "print the stats once and exit")
	events.Flags().DurationVar(&interval, "interval", 5*time.Second, "how often to print stats")

	var listFormat string
	var quiet bool
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the containers under --root",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := runtimeFactory()
			if err != nil {
				return logged(err)
			}
			ids, err := f.List()
			if err != nil {
				return logged(err)
			}
			states := []runcState{}
			for _, id := range ids {
				if c, err := f.Load(id); err == nil {
					states = append(states, stateOf(c))
				}
			}
			out := cmd.OutOrStdout()
			switch {
			case quiet:
				for _, s := range states {
					fmt.Fprintln(out, s.ID)
				}
				return nil
			case listFormat == "json":
				return json.NewEncoder(out).Encode(states)
			case listFormat == "table":
				w := tabwriter.NewWriter(out, 12, 1, 3, ' ', 0)
				fmt.Fprintln(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER")
				for _, s := range states {
					fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
				}
				return w.Flush()
			}
			return logged(fmt.Errorf("--format %q: want table or json", listFormat))
		},
	}
	list.Flags().StringVarP(&listFormat, "format", "f", "table", "table or json")
	list.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the ids")

	var specBundle string
	var rootless bool
	spec := &cobra.Command{
		Use:   "spec",
		Short: "Write a starter config.json into the bundle directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := filepath.Join(specBundle, "config.json")
			if _, err := os.Stat(path); err == nil {
				return logged(fmt.Errorf("file %s exists: remove it first", path))
			}
			s := specconv.Example()
			if rootless {
				return logged(errors.New("--rootless specs are not supported"))
			}
			b, err := json.MarshalIndent(s, "", "\t")
			if err != nil {
				return err
			}
			return logged(os.WriteFile(path, append(b, '\n'), 0o666))
		},
	}
	spec.Flags().StringVarP(&specBundle, "bundle", "b", ".", "directory to write config.json into")
	spec.Flags().BoolVar(&rootless, "rootless", false, "a spec for rootless containers (not supported)")

	runtimeCmd.AddCommand(pause, resume, events, list, spec, updateCommand())
}

func updateCommand() *cobra.Command {
	var resources string
	var memory, memSwap, memRes, cpuQuota, pids int64
	var cpuShares, cpuPeriod uint64
	var blkioWeight uint16
	var cpus, mems string
	cmd := &cobra.Command{
		Use:   "update [flags] <container-id>",
		Short: "Change the resource limits of a running container",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(args[0])
			if err != nil {
				return logged(err)
			}
			r := configs.Resources{}
			if cur := c.Config().Cgroups.Resources; cur != nil {
				r = *cur
			}
			if resources != "" {
				var lr specs.LinuxResources
				b, err := readFileOrStdin(resources)
				if err == nil {
					err = json.Unmarshal(b, &lr)
				}
				if err != nil {
					return logged(fmt.Errorf("-r %s: %w", resources, err))
				}
				applySpecResources(&r, &lr)
			}
			fl := cmd.Flags()
			set := func(name string, fn func()) {
				if fl.Changed(name) {
					fn()
				}
			}
			set("memory", func() { r.Memory = memory })
			set("memory-swap", func() { r.MemorySwap = memSwap })
			set("memory-reservation", func() { r.MemoryReservation = memRes })
			set("cpu-quota", func() { r.CPUQuota = cpuQuota })
			set("cpu-period", func() { r.CPUPeriod = cpuPeriod })
			set("cpu-share", func() { r.CPUShares = cpuShares })
			set("cpuset-cpus", func() { r.CpusetCpus = cpus })
			set("cpuset-mems", func() { r.CpusetMems = mems })
			set("pids-limit", func() { r.PidsLimit = pids })
			set("blkio-weight", func() { r.BlkioWeight = blkioWeight })
			r.Devices = nil // device rules are fixed at create
			return logged(c.Set(r))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&resources, "resources", "r", "", "path to a linux resources JSON (\"-\" for stdin)")
	f.Int64Var(&memory, "memory", 0, "memory limit in bytes")
	f.Int64Var(&memSwap, "memory-swap", 0, "memory+swap limit in bytes")
	f.Int64Var(&memRes, "memory-reservation", 0, "memory soft limit in bytes")
	f.Int64Var(&cpuQuota, "cpu-quota", 0, "CFS quota in microseconds")
	f.Uint64Var(&cpuPeriod, "cpu-period", 0, "CFS period in microseconds")
	f.Uint64Var(&cpuShares, "cpu-share", 0, "CPU shares")
	f.StringVar(&cpus, "cpuset-cpus", "", "CPUs to run on")
	f.StringVar(&mems, "cpuset-mems", "", "memory nodes to use")
	f.Int64Var(&pids, "pids-limit", 0, "maximum number of tasks")
	f.Uint16Var(&blkioWeight, "blkio-weight", 0, "block I/O weight, 10 to 1000")
	return cmd
}

func readFileOrStdin(path string) ([]byte, error) {
	if path == "-" {
		return readAll(os.Stdin)
	}
	return os.ReadFile(path)
}

// applySpecResources copies the settable parts of a spec resources object.
func applySpecResources(r *configs.Resources, lr *specs.LinuxResources) {
	if m := lr.Memory; m != nil {
		if m.Limit != nil {
			r.Memory = *m.Limit
		}
		if m.Swap != nil {
			r.MemorySwap = *m.Swap
		}
		if m.Reservation != nil {
			r.MemoryReservation = *m.Reservation
		}
	}
	if c := lr.CPU; c != nil {
		if c.Shares != nil {
			r.CPUShares = *c.Shares
		}
		if c.Quota != nil {
			r.CPUQuota = *c.Quota
		}
		if c.Period != nil {
			r.CPUPeriod = *c.Period
		}
		if c.Cpus != "" {
			r.CpusetCpus = c.Cpus
		}
		if c.Mems != "" {
			r.CpusetMems = c.Mems
		}
	}
	if p := lr.Pids; p != nil && p.Limit != nil {
		r.PidsLimit = *p.Limit
	}
	if b := lr.BlockIO; b != nil && b.Weight != nil {
		r.BlkioWeight = *b.Weight
	}
}
