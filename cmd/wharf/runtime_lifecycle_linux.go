package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-project/wharf/internal/sigfwd"
	"github.com/wharf-project/wharf/libctr"
)

// createOpts are the flags shared by create and run.
type createOpts struct {
	bundle        string
	pidFile       string
	consoleSocket string
	noPivot       bool
	noNewKeyring  bool
	preserveFds   int
	detach        bool
}

func (o *createOpts) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.bundle, "bundle", "b", ".", "path to the bundle (the directory with config.json)")
	f.StringVar(&o.pidFile, "pid-file", "", "write the container's init pid to this file")
	f.StringVar(&o.consoleSocket, "console-socket", "", "unix socket to send the pty master to, for terminal: true")
	f.BoolVar(&o.noPivot, "no-pivot", false, "use MS_MOVE and chroot instead of pivot_root")
	f.BoolVar(&o.noNewKeyring, "no-new-keyring", false, "keep the caller's session keyring instead of a new one for the container")
	f.IntVar(&o.preserveFds, "preserve-fds", 0, "pass this many extra fds (3, 4, ...) to the container")
}

// create makes the container up to "created" and returns it with its
// init process, or, with run, up to "running"; on any failure nothing is
// left behind. b is the bundle when the caller has loaded it already.
func (o *createOpts) create(id string, b *bundleSpec, run bool) (*libctr.Container, *libctr.Process, error) {
	if b == nil {
		var err error
		if b, err = bundleConfig(o.bundle, id); err != nil {
			return nil, nil, err
		}
	}
	f, err := runtimeFactory()
	if err != nil {
		return nil, nil, err
	}
	f.CgroupsAtCreate = true // started right after
	b.cfg.NoPivotRoot = b.cfg.NoPivotRoot || o.noPivot
	b.cfg.NoNewKeyring = b.cfg.NoNewKeyring || o.noNewKeyring
	if b.proc.Terminal && o.consoleSocket == "" {
		return nil, nil, errors.New("terminal: true needs --console-socket")
	}
	c, err := f.Create(id, b.cfg)
	if err != nil {
		return nil, nil, err
	}
	p := &libctr.Process{Process: *b.proc, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	for i := 0; i < o.preserveFds; i++ {
		p.ExtraFiles = append(p.ExtraFiles, os.NewFile(uintptr(3+i), fmt.Sprintf("fd%d", 3+i)))
	}
	if o.consoleSocket != "" {
		p.ConsoleSocket = o.consoleSocket
	}
	err = c.SetBundle(b.bundle)
	switch {
	case err != nil:
	case run:
		err = c.Run(p)
	default:
		err = c.Start(p)
	}
	if err == nil {
		err = writePidFile(o.pidFile, c.State().InitPid)
	}
	if err != nil {
		_ = c.Destroy()
		return nil, nil, err
	}
	return c, p, nil
}

func init() { addCommand("runtime", addLifecycleCmds) }

func addLifecycleCmds() {
	var co createOpts
	create := &cobra.Command{
		Use:   "create [flags] <container-id>",
		Short: "Create a container: set it up, ready for start",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, _, err := co.create(args[0], nil, false)
			return logged(err)
		},
	}
	co.flags(create)

	start := &cobra.Command{
		Use:   "start <container-id>",
		Short: "Start the user's process in a created container",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(args[0])
			if err != nil {
				return logged(err)
			}
			switch st := c.Status(); st {
			case libctr.Created:
				return logged(c.Exec())
			case libctr.Stopped:
				return logged(errors.New("cannot start a container that has stopped"))
			default:
				return logged(fmt.Errorf("cannot start a container in the %s state", st))
			}
		},
	}

	var ro createOpts
	var keep bool
	run := &cobra.Command{
		Use:   "run [flags] <container-id>",
		Short: "Create and start a container; wait for it unless --detach",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// A terminal with nobody to take the pty: run takes it itself
			// and wires it to its own stdio, as runc does.
			if keep && ro.detach {
				return logged(errors.New("--keep and --detach cannot both be used"))
			}
			var relay *signalRelay
			if !ro.detach {
				relay = startSignalRelay()
			}
			b, err := bundleConfig(ro.bundle, args[0])
			if err != nil {
				return logged(err)
			}
			var proxy *consoleProxy
			if !ro.detach && ro.consoleSocket == "" && b.proc.Terminal {
				if proxy, err = newConsoleProxy(); err != nil {
					return logged(err)
				}
				defer proxy.close()
				ro.consoleSocket = proxy.path()
			}
			// Nothing comes between start and exec here, but the pty's
			// proxy taking the master.
			c, p, err := ro.create(args[0], b, proxy == nil)
			if err != nil {
				return logged(err)
			}
			var drained <-chan struct{}
			if proxy != nil {
				if drained, err = proxy.attach(); err != nil {
					_ = c.Destroy()
					return logged(err)
				}
				if err := c.Exec(); err != nil {
					_ = c.Destroy()
					return logged(err)
				}
			}
			if ro.detach {
				return nil
			}
			code := relay.wait(p)
			if drained != nil {
				// The output is drained when the last holder of the pty
				// closes it; without a pid namespace a background child
				// may hold it on, so do not wait long for that.
				select {
				case <-drained:
				case <-time.After(2 * time.Second):
				}
				proxy.close()
			}
			if !keep {
				if err := c.Destroy(); err != nil {
					runtimeLog.Warn("delete after run", "error", err.Error())
				}
			}
			os.Exit(code)
			return nil
		},
	}
	ro.flags(run)
	run.Flags().BoolVarP(&ro.detach, "detach", "d", false, "do not wait for the container to exit")
	run.Flags().BoolVar(&keep, "keep", false, "do not delete the container after it exits (it stays, stopped, until delete)")

	var force bool
	del := &cobra.Command{
		Use:     "delete [--force] <container-id>",
		Aliases: []string{"rm"},
		Short:   "Delete a stopped (or, with --force, any) container",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := runtimeFactory()
			if err != nil {
				return logged(err)
			}
			c, err := f.Load(args[0])
			if force && (errors.Is(err, libctr.ErrNotExist) || errors.Is(err, libctr.ErrCorruptState)) {
				// A directory without a state (a create that died
				// before writing it) or with a torn one: as runc does
				// with the former, remove it.
				return logged(f.Forget(args[0]))
			}
			if err != nil {
				return logged(err)
			}
			// The runtime spec: deleting a container that is not stopped
			// (created included) is an error without --force.
			if st := c.Status(); !force && st != libctr.Stopped {
				return logged(fmt.Errorf("cannot delete container %s that is not stopped: %s", c.ID(), st))
			}
			return logged(c.Destroy())
		},
	}
	del.Flags().BoolVarP(&force, "force", "f", false, "kill and delete a running container")

	var all bool
	kill := &cobra.Command{
		Use:   "kill [--all] <container-id> [signal]",
		Short: "Send a signal (default SIGTERM) to the container's init, or --all its processes",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			sig := syscall.SIGTERM
			if len(args) == 2 {
				s, err := parseSignal(args[1])
				if err != nil {
					return logged(err)
				}
				sig = s
			}
			c, err := loadContainer(args[0])
			if err != nil {
				return logged(err)
			}
			return logged(c.Signal(sig, all))
		},
	}
	kill.Flags().BoolVarP(&all, "all", "a", false, "send the signal to every process in the container")

	state := &cobra.Command{
		Use:   "state <container-id>",
		Short: "Print the container's state as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(args[0])
			if err != nil {
				return logged(err)
			}
			return printJSON(cmd.OutOrStdout(), stateOf(c))
		},
	}
	runtimeCmd.AddCommand(create, start, run, del, kill, state)
}

// signalRelay passes the signals this process gets on to the container
// process it waits for (runc's foreground run, exec and restore). The
// signals are caught by internal/sigfwd (os/signal's Notify of every
// signal costs 1-5 ms here) from the moment it returns, so the caller
// starts it before the process can run. Signals that arrive before the
// process runs are passed on once it does.
type signalRelay struct {
	sigs <-chan syscall.Signal
}

func startSignalRelay() *signalRelay {
	sigs, err := sigfwd.Catch()
	if err != nil {
		runtimeLog.Debug("signals caught through os/signal", "error", err.Error())
	}
	return &signalRelay{sigs: sigs}
}

// wait waits for p, passing the signals on, and returns the exit code the
// shell would show.
func (r *signalRelay) wait(p *libctr.Process) int {
	done := make(chan int, 1)
	go func() {
		st, err := p.Wait()
		if err != nil {
			runtimeLog.Error("wait", "error", err.Error())
			done <- 255
			return
		}
		done <- libctr.ExitCode(st)
	}()
	for {
		select {
		case code := <-done:
			return code
		case sig := <-r.sigs:
			_ = p.Signal(sig)
		}
	}
}
