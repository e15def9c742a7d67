package main

// wharf runtime checkpoint|restore: runc's commands and flags on libctr's
// criu code path (libctr/criu_linux.go says what it supports and why it
// runs the criu binary rather than its RPC service):
//
//	wharf runtime checkpoint --image-path /ckpt web          # web is gone
//	wharf runtime restore --image-path /ckpt -b bundle -d web

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wharf-project/wharf/libctr"
)

// criuFlags are the flags checkpoint and restore share.
type criuFlags struct {
	opts libctr.CriuOpts
}

func (f *criuFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.opts.ImagesDir, "image-path", "", "directory for criu's image files (default ./checkpoint)")
	fl.StringVar(&f.opts.WorkDir, "work-path", "", "directory for criu's logs (default: the image path)")
	fl.BoolVar(&f.opts.TCPEstablished, "tcp-established", false, "checkpoint and restore established TCP connections")
	fl.BoolVar(&f.opts.ExtUnixSk, "ext-unix-sk", false, "allow unix sockets connected to the outside")
	fl.BoolVar(&f.opts.ShellJob, "shell-job", false, "allow a process tree attached to an outside session or terminal")
	fl.BoolVar(&f.opts.FileLocks, "file-locks", false, "checkpoint and restore file locks")
	fl.StringVar(&f.opts.ManageCgroupsMode, "manage-cgroups-mode", "", "criu's cgroups mode: soft (default), full, strict or ignore")
}

// resolved is the options with runc's default image path and absolute
// directories (criu changes into the work directory).
func (f *criuFlags) resolved() (*libctr.CriuOpts, error) {
	o := f.opts
	if o.ImagesDir == "" {
		o.ImagesDir = "checkpoint"
	}
	var err error
	if o.ImagesDir, err = filepath.Abs(o.ImagesDir); err != nil {
		return nil, err
	}
	if o.WorkDir != "" {
		if o.WorkDir, err = filepath.Abs(o.WorkDir); err != nil {
			return nil, err
		}
	}
	return &o, nil
}

func init() { addCommand("runtime", addCheckpointCmds) }

func addCheckpointCmds() {
	var cf criuFlags
	var leaveRunning bool
	checkpoint := &cobra.Command{
		Use:   "checkpoint [flags] <container-id>",
		Short: "Checkpoint a running container with CRIU (it is deleted unless --leave-running)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := cf.resolved()
			if err != nil {
				return logged(err)
			}
			o.LeaveRunning = leaveRunning
			c, err := loadContainer(args[0])
			if err != nil {
				return logged(err)
			}
			if err := c.Checkpoint(o); err != nil {
				return logged(err)
			}
			if leaveRunning {
				return nil
			}
			// As runc: the dumped processes are gone, and so is the container.
			return logged(c.Destroy())
		},
	}
	cf.add(checkpoint)
	checkpoint.Flags().BoolVar(&leaveRunning, "leave-running", false, "leave the container running after the checkpoint")

	var rf criuFlags
	var ro createOpts
	var noSubreaper bool
	restore := &cobra.Command{
		Use:   "restore [flags] <container-id>",
		Short: "Restore a container from a CRIU checkpoint; wait for it unless --detach",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := rf.resolved()
			if err != nil {
				return logged(err)
			}
			var relay *signalRelay
			if !ro.detach {
				relay = startSignalRelay()
			}
			c, p, err := ro.restore(args[0], o)
			if err != nil {
				return logged(err)
			}
			if ro.detach {
				return nil
			}
			code := relay.wait(p)
			if err := c.Destroy(); err != nil {
				runtimeLog.Warn("delete after restore", "error", err.Error())
			}
			os.Exit(code)
			return nil
		},
	}
	rf.add(restore)
	ro.flags(restore)
	f := restore.Flags()
	f.BoolVarP(&ro.detach, "detach", "d", false, "do not wait for the restored container to exit")
	f.BoolVar(&noSubreaper, "no-subreaper", false, "accepted for runc compatibility; wharf never becomes a subreaper")
	_ = f.MarkHidden("preserve-fds") // criu restores the descriptors the checkpoint had
	runtimeCmd.AddCommand(checkpoint, restore)
}

// restore creates container id from the bundle and restores its processes
// from the checkpoint; on any failure nothing is left behind. The restored
// init gets this process's stdio in place of the checkpointed init's
// pipes, sockets, terminals and host files.
func (o *createOpts) restore(id string, co *libctr.CriuOpts) (*libctr.Container, *libctr.Process, error) {
	b, err := bundleConfig(o.bundle, id)
	if err != nil {
		return nil, nil, err
	}
	if b.proc.Terminal || o.consoleSocket != "" {
		return nil, nil, errors.New("restore of a container with a terminal is not supported")
	}
	b.cfg.NoPivotRoot = b.cfg.NoPivotRoot || o.noPivot        // (criu makes the root: no effect)
	b.cfg.NoNewKeyring = b.cfg.NoNewKeyring || o.noNewKeyring // for the execs into it
	f, err := runtimeFactory()
	if err != nil {
		return nil, nil, err
	}
	c, err := f.Create(id, b.cfg)
	if err != nil {
		return nil, nil, err
	}
	p := &libctr.Process{Process: *b.proc, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	err = c.SetBundle(b.bundle)
	if err == nil {
		err = c.Restore(p, co)
	}
	if err == nil {
		err = writePidFile(o.pidFile, c.State().InitPid)
	}
	if err != nil {
		_ = c.Destroy()
		return nil, nil, fmt.Errorf("restore %s: %w", id, err)
	}
	return c, p, nil
}
