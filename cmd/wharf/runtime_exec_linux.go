package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/specconv"
)

type execOpts struct {
	process       string
	tty           bool
	detach        bool
	pidFile       string
	consoleSocket string
	cwd           string
	env           []string
	user          string
	gids          []uint
	caps          []string
	noNewPrivs    bool
	preserveFds   int
}

// execProcess builds the process to run: the --process file, or the args
// with the container's own process settings as defaults (as runc does).
func (o *execOpts) execProcess(c *libctr.Container, args []string) (*configs.Process, error) {
	if o.process != "" {
		b, err := os.ReadFile(o.process)
		if err != nil {
			return nil, err
		}
		sp, err := specconv.DecodeProcess(b)
		if err != nil {
			return nil, fmt.Errorf("--process %s: %w", o.process, err)
		}
		return specconv.ToProcess(sp)
	}
	if len(args) == 0 {
		return nil, errors.New("exec needs a command, or --process")
	}
	base, err := initProcessOf(c)
	if err != nil {
		return nil, err
	}
	p := *base
	p.Args, p.Terminal = args, o.tty
	if o.cwd != "" {
		p.Cwd = o.cwd
	}
	p.Env = append(append([]string(nil), p.Env...), o.env...)
	if o.user != "" {
		uid, gid, ok := strings.Cut(o.user, ":")
		u, err := strconv.ParseUint(uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user %q: want uid[:gid]", o.user)
		}
		p.UID, p.GID = uint32(u), 0
		if ok {
			g, err := strconv.ParseUint(gid, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user %q: want uid[:gid]", o.user)
			}
			p.GID = uint32(g)
		}
	}
	if len(o.gids) > 0 {
		gids := append([]uint32(nil), p.AdditionalGids...)
		for _, g := range o.gids {
			if g > math.MaxUint32 {
				return nil, fmt.Errorf("--additional-gids %d: not a gid", g)
			}
			gids = append(gids, uint32(g))
		}
		p.AdditionalGids = gids
	}
	if len(o.caps) > 0 && p.Capabilities != nil {
		cp := *p.Capabilities
		cp.Bounding = append(append([]string(nil), cp.Bounding...), o.caps...)
		cp.Effective = append(append([]string(nil), cp.Effective...), o.caps...)
		cp.Permitted = append(append([]string(nil), cp.Permitted...), o.caps...)
		p.Capabilities = &cp
	}
	p.NoNewPrivileges = p.NoNewPrivileges || o.noNewPrivs
	return &p, nil
}

// initProcessOf is the container's init process, as recorded at create
// (or, for state written before that was recorded, from the bundle).
func initProcessOf(c *libctr.Container) (*configs.Process, error) {
	if p := c.State().InitProcess; p != nil {
		return p, nil
	}
	bundle := c.State().Bundle
	spec, err := specconv.LoadSpec(bundle)
	if err != nil {
		return nil, err
	}
	return specconv.ToProcess(spec.Process)
}

func init() { addCommand("runtime", addExecCmds) }

func addExecCmds() {
	var o execOpts
	execCmd := &cobra.Command{
		Use:   "exec [flags] <container-id> <command> [args...]",
		Short: "Run a process in a running container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var relay *signalRelay
			if !o.detach {
				relay = startSignalRelay()
			}
			c, err := loadContainer(args[0])
			if err != nil {
				return logged(err)
			}
			proc, err := o.execProcess(c, args[1:])
			if err != nil {
				return logged(err)
			}
			p := &libctr.Process{Process: *proc, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, ConsoleSocket: o.consoleSocket}
			for i := 0; i < o.preserveFds; i++ {
				p.ExtraFiles = append(p.ExtraFiles, os.NewFile(uintptr(3+i), fmt.Sprintf("fd%d", 3+i)))
			}
			if err := c.Enter(p); err != nil {
				return logged(err)
			}
			if err := writePidFile(o.pidFile, p.Pid()); err != nil {
				return logged(err)
			}
			if o.detach {
				return nil
			}
			os.Exit(relay.wait(p))
			return nil
		},
	}
	f := execCmd.Flags()
	f.SetInterspersed(false) // flags after the command belong to it
	f.StringVarP(&o.process, "process", "p", "", "path to a process.json (the spec's process object)")
	f.BoolVarP(&o.tty, "tty", "t", false, "allocate a pseudo-TTY (needs --console-socket)")
	f.BoolVarP(&o.detach, "detach", "d", false, "do not wait for the process")
	f.StringVar(&o.pidFile, "pid-file", "", "write the process's pid to this file")
	f.StringVar(&o.consoleSocket, "console-socket", "", "unix socket to send the pty master to")
	f.StringVar(&o.cwd, "cwd", "", "working directory in the container")
	f.StringArrayVarP(&o.env, "env", "e", nil, "set an environment variable (KEY=value)")
	f.StringVarP(&o.user, "user", "u", "", "uid[:gid] to run as")
	f.UintSliceVarP(&o.gids, "additional-gids", "g", nil, "add a supplementary group (repeat, or a comma-separated list)")
	f.StringArrayVarP(&o.caps, "cap", "c", nil, "add a capability")
	f.BoolVar(&o.noNewPrivs, "no-new-privs", false, "set no_new_privs")
	f.IntVar(&o.preserveFds, "preserve-fds", 0, "pass this many extra fds (3, 4, ...) to the process")

	var format string
	ps := &cobra.Command{
		Use:   "ps [--format table|json] <container-id> [ps options]",
		Short: "List the processes running in a container",
		Long: "List the processes running in a container: their pids as a JSON array with --format json, or, as\n" +
			"runc does, the lines of ps(1) (run with the ps options given, -ef by default) that are theirs.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(args[0])
			if err != nil {
				return logged(err)
			}
			pids, err := c.Processes()
			if err != nil {
				return logged(err)
			}
			switch format {
			case "json":
				if pids == nil {
					pids = []int{}
				}
				return json.NewEncoder(cmd.OutOrStdout()).Encode(pids)
			case "table":
				return logged(psTable(cmd.OutOrStdout(), pids, args[1:]))
			}
			return logged(fmt.Errorf("--format %q: want table or json", format))
		},
	}
	ps.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	ps.Flags().SetInterspersed(false) // what follows the id is for ps(1)
	runtimeCmd.AddCommand(execCmd, ps)
}

// psTable prints ps(1)'s header and its lines for pids, as runc's ps does:
// psArgs (-ef when none) go to ps, and the column headed PID picks the
// lines.
func psTable(w io.Writer, pids []int, psArgs []string) error {
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	out, err := exec.Command("ps", psArgs...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return fmt.Errorf("ps %s: %s", strings.Join(psArgs, " "), strings.TrimSpace(string(ee.Stderr)))
		}
		return fmt.Errorf("ps %s: %w", strings.Join(psArgs, " "), err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := slices.Index(strings.Fields(lines[0]), "PID")
	if col < 0 {
		return fmt.Errorf("ps %s: no PID column in %q", strings.Join(psArgs, " "), lines[0])
	}
	ours := make(map[string]bool, len(pids))
	for _, pid := range pids {
		ours[strconv.Itoa(pid)] = true
	}
	b := []byte(lines[0] + "\n")
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if col >= len(f) {
			continue
		}
		if _, err := strconv.Atoi(f[col]); err != nil {
			// A column before PID with spaces in it (lstart, args):
			// runc gives up too.
			return fmt.Errorf("ps %s: no pid where the PID column is in %q", strings.Join(psArgs, " "), line)
		}
		if ours[f[col]] {
			b = append(b, line+"\n"...)
		}
	}
	_, err = w.Write(b)
	return err
}
