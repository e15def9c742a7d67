// Package dockerinit is the init of `docker run --init`: what dockerd gets
// from tini (docker-init), wharf runs from its own binary. As the
// container's pid 1 it starts the program, forwards it the signals it
// receives, reaps every process that ends up its child (orphans are
// re-parented to pid 1), and exits with the program's status once the
// program has exited.
//
//	pid 1  docker-init -- sh -c 'sleep 100 & exec sleep 5'
//	  └─ pid 7  sh (its own process group; the terminal's foreground one with -t)
//	       └─ sleep 100   orphaned when sh ends: reaped by pid 1
//
// The daemon bind-mounts the binary read-only into the container (see
// engine/container's init_linux.go) and runs it as
// "<dir>/docker-init -- <entrypoint and cmd>"; cmd/wharf recognises the
// name before anything else runs and calls Main.
package dockerinit

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Name is the base name the daemon gives the init's binary; a wharf
// binary started under this name runs Main.
const Name = "docker-init"

// Main runs the init with args ("--", then the program and its
// arguments) and returns the exit code: the program's, or 128+signal when
// a signal ended it.
func Main(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "docker-init: usage: docker-init -- program [args...]")
		return 1
	}
	// Signals are caught before the child exists, so that neither its
	// exit (SIGCHLD) nor a signal meant for it can be missed; the daemon
	// counts the init ready once the child exists.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs)
	args = clone(args)
	setTitle(append([]string{os.Args[0], "--"}, args...))
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "docker-init: %v\n", err)
		return 127
	}
	tty := isTerminal(0)
	pid, err := syscall.ForkExec(path, args, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		// Its own process group, the terminal's foreground group when
		// there is one, as tini: keys typed at the terminal reach the
		// program, not the init.
		Sys: &syscall.SysProcAttr{Setpgid: true, Foreground: tty, Ctty: 0},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "docker-init: exec %s: %v\n", args[0], err)
		if err == syscall.EACCES || err == syscall.EISDIR {
			return 126
		}
		return 127
	}
	for sig := range sigs {
		s, ok := sig.(syscall.Signal)
		if !ok {
			continue
		}
		switch s {
		case syscall.SIGCHLD:
			if code, done := reap(pid); done {
				return code
			}
		case syscall.SIGURG:
			// The Go runtime's own preemption signal, not the user's.
		default:
			_ = syscall.Kill(pid, s)
		}
	}
	return 0
}

// reap collects every child that has exited; done reports that the
// program was one of them, with its exit code.
func reap(program int) (code int, done bool) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return code, done
		}
		if pid != program {
			continue
		}
		done = true
		switch {
		case ws.Exited():
			code = ws.ExitStatus()
		case ws.Signaled():
			code = 128 + int(ws.Signal())
		}
	}
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

func clone(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.Clone(s)
	}
	return out
}

// setTitle makes ps show the init as "docker-init -- program ...": it
// names the thread docker-init and writes args over the command line the
// kernel reports (the init may have been started through the dynamic
// loader, whose arguments come first there). Only cosmetic: failures are
// ignored. The arguments must have been copied first, since os.Args
// points into the memory rewritten.
func setTitle(args []string) {
	if p, err := unix.BytePtrFromString(Name); err == nil {
		_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(p)), 0, 0, 0)
	}
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return
	}
	// Fields after the command name, which is in parentheses and may
	// hold spaces: arg_start and arg_end are fields 48 and 49.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 47 {
		return
	}
	start, err1 := strconv.ParseUint(f[45], 10, 64)
	end, err2 := strconv.ParseUint(f[46], 10, 64)
	if err1 != nil || err2 != nil || end <= start {
		return
	}
	title := make([]byte, end-start)
	n := copy(title, strings.Join(args, "\x00"))
	if n == len(title) {
		title[n-1] = 0 // cut: keep the area's terminating NUL
	}
	mem, err := os.OpenFile("/proc/self/mem", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer mem.Close()
	_, _ = mem.WriteAt(title, int64(start))
}
