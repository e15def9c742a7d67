// Package sigfwd catches every signal a process can pass on to another
// one, for `wharf runtime run` and `exec` in the foreground, which relay
// what they get to the container's process as runc does.
//
// Why not os/signal: Notify enables each signal with a round trip to the
// Go runtime's signal thread (two thread wake-ups), 1-5 ms for the 60-odd
// signals on this VM, where a wake-up is an interprocessor interrupt that
// traps to the hypervisor; a runtime command's whole exec is ~9 ms. Here a
// C handler (installed with SA_ONSTACK, as the Go runtime requires of
// foreign handlers) writes the signal's number to a pipe: one sigaction
// per signal and no thread involved.
//
// Signals the Go runtime needs keep its handlers: the synchronous faults
// (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS), SIGURG (goroutine
// preemption), SIGPROF, SIGPIPE and SIGCHLD, and SIGWINCH (a terminal's
// size, which the console proxy follows with os/signal); so do the
// signals libc keeps for itself below SIGRTMIN. After Catch, the others
// no longer reach the Go runtime (no SIGQUIT stack dump, no SIGINT exit):
// they are all passed on. Without cgo, os/signal's Notify does the same,
// slowly (sigfwd_nocgo_linux.go).
package sigfwd

import (
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// errNoCgo is Catch's error in a build without cgo.
var errNoCgo = errors.New("no cgo: signals caught through os/signal")

// kept are the signals whose handlers stay the Go runtime's.
var kept = map[syscall.Signal]bool{
	unix.SIGKILL: true, unix.SIGSTOP: true, // cannot be caught
	unix.SIGSEGV: true, unix.SIGBUS: true, unix.SIGFPE: true, unix.SIGILL: true, unix.SIGTRAP: true, unix.SIGSYS: true,
	unix.SIGURG: true, unix.SIGPROF: true, unix.SIGPIPE: true, unix.SIGCHLD: true, unix.SIGWINCH: true,
}

// Signals are the signals Catch catches: 1-31 but the kept ones, and
// SIGRTMIN-SIGRTMAX as this libc numbers them.
func Signals() []syscall.Signal {
	var sigs []syscall.Signal
	for s := syscall.Signal(1); s < 32; s++ {
		if !kept[s] {
			sigs = append(sigs, s)
		}
	}
	lo, hi := rtRange()
	for s := lo; s <= hi; s++ {
		sigs = append(sigs, syscall.Signal(s))
	}
	return sigs
}

// Catch installs the handlers (once per process) and returns the channel
// the caught signals come on, in order. Signals that nobody receives queue
// behind it. Where the C handlers cannot be installed (no cgo, or a
// sigaction refused), os/signal catches them instead, and the error says
// why: the channel works either way.
var Catch = sync.OnceValues(func() (<-chan syscall.Signal, error) {
	ch, err := catchC()
	if err == nil {
		return ch, nil
	}
	in := make(chan os.Signal, 64)
	var sigs []os.Signal
	for _, s := range Signals() {
		sigs = append(sigs, s)
	}
	signal.Notify(in, sigs...)
	out := make(chan syscall.Signal, 64)
	go func() {
		for s := range in {
			out <- s.(syscall.Signal)
		}
	}()
	return out, err
})
