package container

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The real-time signal range as glibc's SIGRTMIN/SIGRTMAX.
const (
	sigRTMin = 34
	sigRTMax = 64
)

// ParseSignal reads a signal as dockerd does: a number ("9"), a name with
// or without SIG ("KILL", "SIGKILL"), or a real-time one ("SIGRTMIN+3").
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > sigRTMax {
			return -1, fmt.Errorf("invalid signal: %s", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN+"); ok {
		if n, err := strconv.Atoi(rest); err == nil && n >= 0 && sigRTMin+n <= sigRTMax {
			return syscall.Signal(sigRTMin + n), nil
		}
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMAX-"); ok {
		if n, err := strconv.Atoi(rest); err == nil && n >= 0 && sigRTMax-n >= sigRTMin {
			return syscall.Signal(sigRTMax - n), nil
		}
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return -1, fmt.Errorf("invalid signal: %s", s)
}
