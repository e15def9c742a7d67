package libctr

// The init's helpers for the program it is about to exec: its
// environment, its path, its clocks.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
)

// processEnv is the process's env with HOME added from the container's
// /etc/passwd when the spec leaves it out, as runc does.
func processEnv(proc *configs.Process) []string {
	env := append([]string(nil), proc.Env...)
	for _, e := range env {
		if strings.HasPrefix(e, "HOME=") {
			return env
		}
	}
	home := "/"
	if f, err := os.Open("/etc/passwd"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			fields := strings.Split(s.Text(), ":")
			if len(fields) >= 6 && fields[2] == strconv.Itoa(int(proc.UID)) {
				home = fields[5]
				break
			}
		}
		f.Close()
	}
	return append(env, "HOME="+home)
}

// lookPath resolves the program with the process's PATH, not ours.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		// A directory or a file nobody may execute is refused here, with
		// the errno execve would give, so that the caller learns it (the
		// engine's 126) instead of a program that exits 127.
		fi, err := os.Stat(name)
		switch {
		case err != nil:
			return "", fmt.Errorf("exec: %q: %w", name, err)
		case fi.IsDir():
			return "", fmt.Errorf("exec: %q: %w", name, syscall.EISDIR)
		case fi.Mode()&0o111 == 0:
			return "", fmt.Errorf("exec: %q: %w", name, syscall.EACCES)
		}
		return name, nil
	}
	path := ""
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + name
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: %w", name, exec.ErrNotFound)
}

// newTimeNamespace makes a time namespace for this process's children and
// for the program it execs (execve enters it), with its clock offsets,
// which can only be written before any process is inside.
func newTimeNamespace(offsets map[string]configs.TimeOffset) error {
	if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
		return fmt.Errorf("unshare time namespace: %w", err)
	}
	var b strings.Builder
	for clock, off := range offsets {
		fmt.Fprintf(&b, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := os.WriteFile("/proc/self/timens_offsets", []byte(b.String()), 0); err != nil {
		return fmt.Errorf("time offsets: %w", err)
	}
	return nil
}
