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
// they are all passed on.
package sigfwd

/*
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int sigfwd_fd = -1;

static void sigfwd_handler(int sig)
{
	int e = errno;
	unsigned char b = (unsigned char)sig;
	(void)!write(sigfwd_fd, &b, 1); // a full pipe drops it: 64 KiB of signals nobody read
	errno = e;
}

// sigfwd_catch installs the handler for n signals (at most 128); if one
// cannot be, it puts back the handlers it replaced and fails.
static int sigfwd_catch(int fd, const int *sigs, int n)
{
	static struct sigaction old[128];
	if (n > 128)
		return -EINVAL;
	sigfwd_fd = fd;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sigfwd_handler;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (int i = 0; i < n; i++) {
		if (sigaction(sigs[i], &sa, &old[i]) < 0) {
			int e = errno;
			while (i-- > 0)
				sigaction(sigs[i], &old[i], NULL);
			return -e;
		}
	}
	return 0;
}

static int sigfwd_rtmin(void) { return SIGRTMIN; }
static int sigfwd_rtmax(void) { return SIGRTMAX; }
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

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
	for s := int(C.sigfwd_rtmin()); s <= int(C.sigfwd_rtmax()); s++ {
		sigs = append(sigs, syscall.Signal(s))
	}
	return sigs
}

var once struct {
	sync.Mutex
	ch <-chan syscall.Signal
}

// Catch installs the handlers (once per process) and returns the channel
// the caught signals come on, in order. Signals that nobody receives queue
// in the pipe behind it.
func Catch() (<-chan syscall.Signal, error) {
	once.Lock()
	defer once.Unlock()
	if once.ch != nil {
		return once.ch, nil
	}
	var p [2]int
	// Both ends non-blocking: the handler must never block, and the read
	// end goes to the runtime's poller.
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, fmt.Errorf("signal pipe: %w", err)
	}
	sigs := Signals()
	cs := make([]C.int, len(sigs))
	for i, s := range sigs {
		cs[i] = C.int(s)
	}
	if rc := C.sigfwd_catch(C.int(p[1]), &cs[0], C.int(len(cs))); rc < 0 {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, fmt.Errorf("sigaction: %w", syscall.Errno(-rc))
	}
	r := os.NewFile(uintptr(p[0]), "signals")
	ch := make(chan syscall.Signal, 64)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := r.Read(buf)
			for _, b := range buf[:n] {
				ch <- syscall.Signal(b)
			}
			if err != nil {
				return
			}
		}
	}()
	once.ch = ch
	return ch, nil
}
