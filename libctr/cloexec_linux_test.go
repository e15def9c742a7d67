package libctr

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The fallback of closeExecFrom (kernels before 5.11) marks a leaked
// descriptor close-on-exec, and leaves those below first alone.
func TestCloexecListed(t *testing.T) {
	fds := make([]int, 2)
	for i := range fds {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY, 0) // no O_CLOEXEC: leaked
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		fds[i] = fd
	}
	if err := cloexecListed(fds[1]); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true} {
		flags, err := unix.FcntlInt(uintptr(fds[i]), unix.F_GETFD, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := flags&unix.FD_CLOEXEC != 0; got != want {
			t.Errorf("fd %d close-on-exec %v, want %v", fds[i], got, want)
		}
	}
}
