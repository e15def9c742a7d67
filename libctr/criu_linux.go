package libctr

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wharf-project/wharf/libctr/cgroups"
	"github.com/wharf-project/wharf/libctr/configs"
)

// Checkpoint and restore run the criu binary (Factory.CriuPath, else
// "criu" in $PATH) once per operation, `criu dump` and `criu restore`,
// rather than criu's RPC service (swrk) that runc drives: every option
// libctr needs has a command-line flag, the restored init comes back as
// a child of the caller through --restore-detached --restore-sibling, and
// the command line is the whole contract, which the unit tests check
// without a criu that works. What the CLI cannot do (notifications
// during the restore, handing a pty master to a console socket) is not
// offered: terminal containers are refused.

// criuImageFile is libctr's own record in the images directory.
const criuImageFile = "criu-wharf.json"

// criuImage is what a restore needs from the checkpointed container
// besides criu's images.
type criuImage struct {
	// Stdio are the init's fds 0-2 (see criuPlan.Stdio).
	Stdio []string `json:"stdio"`
	// MaskedFiles are the masked paths that were files (/dev/null bound
	// over them): external mounts for criu.
	MaskedFiles []string `json:"masked_files,omitempty"`
}

// CriuCheck tells whether checkpoint and restore can work here: the criu
// binary at path (or "criu" in $PATH when path is empty) must exist and
// `criu check` must pass. The error says which of the two failed.
func CriuCheck(path string) error {
	bin, err := exec.LookPath(cmp.Or(path, "criu"))
	if err != nil {
		return fmt.Errorf("checkpoint/restore needs CRIU: %w: %w", err, ErrNotSupported)
	}
	out, err := exec.Command(bin, "check").CombinedOutput()
	if err != nil {
		return fmt.Errorf("checkpoint/restore needs CRIU, and `criu check` fails here (%s: %v): %s: %w", bin, err, criuReason(out), ErrNotSupported)
	}
	return nil
}

// criuReason is the first error criu reported that says why it failed:
// not the closing "... FAILED." summary, nor the rlimit complaint criu
// prints and ignores without CAP_SYS_RESOURCE. Without one, its last line.
func criuReason(out []byte) string {
	reason, last := "", ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" {
			last = line
		}
		// "Error (file:line): ...", after a timestamp in the log files.
		i := strings.Index(line, "Error (")
		if reason != "" || i < 0 || strings.Contains(line, "FAILED") || strings.Contains(line, "rlimit: ") {
			continue
		}
		reason = line[i:]
	}
	return cmp.Or(reason, last, "no output")
}

// criuSupported refuses what this code path does not handle.
func (c *Container) criuSupported() error {
	cfg := &c.state.Config
	if !cfg.Namespaces.Contains(configs.NEWNS) {
		return fmt.Errorf("checkpoint/restore of a container without its own mount namespace: %w", ErrNotSupported)
	}
	for _, ns := range cfg.Namespaces {
		if ns.Path != "" {
			return fmt.Errorf("checkpoint/restore of a container that joined the %s namespace %s: %w", ns.Type, ns.Path, ErrNotSupported)
		}
	}
	if p := c.state.InitProcess; p != nil && p.Terminal {
		return fmt.Errorf("checkpoint/restore of a container with a terminal: %w", ErrNotSupported)
	}
	return nil
}

// Checkpoint dumps the running container's processes into
// opts.ImagesDir with criu. Unless opts.LeaveRunning, criu kills them
// afterwards and the container is stopped (Destroy removes the rest).
func (c *Container) Checkpoint(opts *CriuOpts) error {
	if err := opts.validate(); err != nil {
		return err
	}
	if st := c.Status(); st != Running {
		return fmt.Errorf("container %s is %s, checkpoint needs it running: %w", c.id, st, ErrBadState)
	}
	if err := c.criuSupported(); err != nil {
		return err
	}
	if err := CriuCheck(c.factory.CriuPath); err != nil {
		return err
	}
	img, err := c.criuImageOf()
	if err != nil {
		return err
	}
	plan, err := c.criuPlanOf(img, false)
	if err != nil {
		return err
	}
	for _, d := range []string{opts.ImagesDir, opts.workDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	b, err := json.Marshal(img)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(opts.ImagesDir, criuImageFile), b, 0o600); err != nil {
		return err
	}
	return c.runCriu(opts, "dump.log", plan.dumpArgs(opts), nil)
}

// Restore brings a checkpointed container back: c must be freshly
// created (from the same config), p describes its init (Stdin, Stdout and
// Stderr must be *os.File or nil for /dev/null; they replace the pipes,
// sockets, terminals and host files the checkpointed init had as fds
// 0-2). The init becomes a child of the caller, so p.Wait works; the
// container is "running" when Restore returns. After an error, Destroy
// removes what was made.
func (c *Container) Restore(p *Process, opts *CriuOpts) error {
	if err := opts.validate(); err != nil {
		return err
	}
	if c.state.InitPid != 0 {
		return fmt.Errorf("container %s already started: restore needs a new one: %w", c.id, ErrBadState)
	}
	c.state.InitProcess = &p.Process
	if err := c.criuSupported(); err != nil {
		return err
	}
	if err := CriuCheck(c.factory.CriuPath); err != nil {
		return err
	}
	var img criuImage
	b, err := os.ReadFile(filepath.Join(opts.ImagesDir, criuImageFile))
	if err == nil {
		err = json.Unmarshal(b, &img)
	}
	if err != nil {
		return fmt.Errorf("checkpoint in %s: %w", opts.ImagesDir, err)
	}
	plan, err := c.criuPlanOf(img, true)
	if err != nil {
		return err
	}
	var inherited []string
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for i, d := range plan.Stdio {
		if !criuInherited(d) || i > 2 {
			continue
		}
		f, err := stdioFile(i, p)
		if err != nil {
			return err
		}
		inherited, files = append(inherited, d), append(files, f)
	}
	// criu puts the tree into these cgroups (--cgroup-root); making them
	// first gives them the config's limits.
	c.settleCgroups()
	if err := c.cgroup.Apply(0); err != nil {
		return err
	}
	if err := c.cgroup.Set(c.state.Config.Cgroups.Resources); err != nil {
		return err
	}
	if err := os.MkdirAll(opts.workDir(), 0o700); err != nil {
		return err
	}
	pidfile, err := filepath.Abs(filepath.Join(opts.workDir(), "restore.pid"))
	if err != nil {
		return err
	}
	_ = os.Remove(pidfile)
	if err := c.runCriu(opts, "restore.log", plan.restoreArgs(opts, inherited, 3, pidfile), files); err != nil {
		return err
	}
	pb, err := os.ReadFile(pidfile)
	if err != nil {
		return fmt.Errorf("criu restore: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pb)))
	if err != nil {
		return fmt.Errorf("criu restore: pid file %s: %w", pidfile, err)
	}
	proc, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	p.pid, p.proc = pid, proc
	c.init = p
	c.state.InitPid = pid
	_, c.state.InitStartTime, _ = procStat(pid)
	c.state.Created = time.Now().UTC()
	return c.save()
}

// stdioFile is fd i (0, 1, 2) of p as a file for criu to hand over: a
// duplicate of p's (the caller keeps its own), or /dev/null for nil.
func stdioFile(i int, p *Process) (*os.File, error) {
	var v any
	switch i {
	case 0:
		v = p.Stdin
	case 1:
		v = p.Stdout
	default:
		v = p.Stderr
	}
	switch f := v.(type) {
	case nil:
	case *os.File:
		if f == nil {
			break
		}
		fd, err := syscall.Dup(int(f.Fd()))
		if err != nil {
			return nil, err
		}
		syscall.CloseOnExec(fd)
		return os.NewFile(uintptr(fd), f.Name()), nil
	default:
		return nil, fmt.Errorf("restore: stdio %d must be an *os.File (it replaces the checkpointed init's): %w", i, configs.ErrInvalid)
	}
	return os.OpenFile(os.DevNull, os.O_RDWR, 0)
}

// runCriu runs criu with args (files become its fds 3, 4, ...) and turns
// a failure into an error that quotes criu's log.
func (c *Container) runCriu(opts *CriuOpts, log string, args []string, files []*os.File) error {
	bin, err := exec.LookPath(cmp.Or(c.factory.CriuPath, "criu"))
	if err != nil {
		return err
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = &out, &out, files
	if err := cmd.Run(); err != nil {
		logPath := filepath.Join(opts.workDir(), log)
		reason := criuReason(out.Bytes())
		if b, rerr := os.ReadFile(logPath); rerr == nil {
			reason = criuReason(b)
		}
		return fmt.Errorf("criu %s: %v: %s (log: %s)", args[0], err, reason, logPath)
	}
	return nil
}

// criuImageOf gathers, from the running init, what the dump records in
// criuImageFile: its stdio as criu names it, and which masked paths are
// files.
func (c *Container) criuImageOf() (criuImage, error) {
	pid := c.state.InitPid
	proc := "/proc/" + strconv.Itoa(pid)
	mounts, err := mountIDs(proc + "/mountinfo")
	if err != nil {
		return criuImage{}, err
	}
	var img criuImage
	for fd := 0; fd <= 2; fd++ {
		img.Stdio = append(img.Stdio, criuDescriptor(proc, fd, mounts))
	}
	for _, m := range c.state.Config.MaskPaths {
		var st syscall.Stat_t
		if err := syscall.Stat(proc+"/root"+m, &st); err == nil && st.Mode&syscall.S_IFMT == syscall.S_IFCHR {
			img.MaskedFiles = append(img.MaskedFiles, m)
		}
	}
	return img, nil
}

// criuDescriptor names fd of the process at proc the way criu does for
// what it cannot reopen by itself: pipes and sockets by inode, terminals
// and files outside the container's mounts (its mount ids are in mounts)
// as externals. Anything else is its path, reopened by criu.
func criuDescriptor(proc string, fd int, mounts map[int]bool) string {
	link, err := os.Readlink(fmt.Sprintf("%s/fd/%d", proc, fd))
	if err != nil || !strings.HasPrefix(link, "/") {
		return link // pipe:[ino], socket:[ino], anon_inode:..., or "" when closed
	}
	info, err := os.ReadFile(fmt.Sprintf("%s/fdinfo/%d", proc, fd))
	if err != nil {
		return link
	}
	mnt := -1
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "mnt_id:"); ok {
			mnt, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if mounts[mnt] {
		return link
	}
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("%s/fd/%d", proc, fd), &st); err != nil {
		return link
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFCHR && isTTY(st.Rdev) {
		return fmt.Sprintf("tty[%x:%x]", st.Rdev, st.Dev)
	}
	return fmt.Sprintf("file[%x:%x]", mnt, st.Ino)
}

// isTTY reports the terminal majors: 4 (tty), 5 (tty, console, ptmx) and
// 136-143 (pts).
func isTTY(rdev uint64) bool {
	major := (rdev >> 8) & 0xfff
	return major == 4 || major == 5 || (major >= 136 && major <= 143)
}

// mountIDs lists the mount ids of a mountinfo file.
func mountIDs(path string) (map[int]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ids := map[int]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if id, _, ok := strings.Cut(line, " "); ok {
			if n, err := strconv.Atoi(id); err == nil {
				ids[n] = true
			}
		}
	}
	return ids, nil
}

// criuPlanOf gathers the plan for a dump or, with restore, for a restore
// into this container's rootfs and cgroups.
func (c *Container) criuPlanOf(img criuImage, restore bool) (*criuPlan, error) {
	cfg := &c.state.Config
	plan := &criuPlan{InitPid: c.state.InitPid, Rootfs: cfg.Rootfs, CgroupPath: cfg.Cgroups.Path, Stdio: img.Stdio}
	paths := c.cgroup.Paths()
	var v1 map[string]string
	if !cgroups.IsV2() {
		var err error
		if v1, err = cgroups.V1Mounts(); err != nil {
			return nil, err
		}
		plan.FreezerDir = paths["freezer"]
	} else {
		plan.FreezerDir = paths[""]
	}
	if restore {
		plan.FreezerDir = ""
	} else if v1 != nil {
		var err error
		if plan.DumpControllers, err = managedHierarchies(c.state.InitPid, v1); err != nil {
			return nil, err
		}
	}
	plan.Mounts = criuExternalMounts(cfg, v1, img.MaskedFiles)
	return plan, nil
}

// managedHierarchies lists the controller fields of /proc/<pid>/cgroup
// ("memory", "cpu,cpuacct") of the hierarchies with a controller in
// managed, sorted.
func managedHierarchies(pid int, managed map[string]string) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			if _, ok := managed[ctrl]; ok {
				out = append(out, parts[1])
				break
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
