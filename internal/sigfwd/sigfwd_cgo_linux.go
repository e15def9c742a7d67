//go:build cgo

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
	"syscall"

	"golang.org/x/sys/unix"
)

// rtRange is SIGRTMIN-SIGRTMAX as this libc numbers them.
func rtRange() (int, int) { return int(C.sigfwd_rtmin()), int(C.sigfwd_rtmax()) }

// catchC installs the C handler for Signals, writing to a pipe whose
// read end feeds the channel.
func catchC() (<-chan syscall.Signal, error) {
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
	return ch, nil
}
