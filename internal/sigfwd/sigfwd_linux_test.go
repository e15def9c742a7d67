package sigfwd

import (
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestCatchPassesSignalsOn: signals sent to the process come out of the
// channel in order, a realtime one too, instead of ending the process;
// the Go runtime keeps the ones it needs.
func TestCatchPassesSignalsOn(t *testing.T) {
	// The C handlers, unless this build has no cgo (os/signal then).
	ch, err := Catch()
	if err != nil && !errors.Is(err, errNoCgo) {
		t.Fatal(err)
	}
	if again, err2 := Catch(); err2 != err || again != ch {
		t.Fatalf("second Catch: %v %v", again, err2)
	}
	rt := Signals()[len(Signals())-1]
	want := []syscall.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGUSR1, unix.SIGHUP, rt, unix.SIGQUIT}
	for _, s := range want {
		if err := unix.Kill(unix.Getpid(), s); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-ch:
			if got != s {
				t.Errorf("got %v, want %v", got, s)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%v did not come within 30s", s)
		}
	}
	for _, s := range []syscall.Signal{unix.SIGURG, unix.SIGCHLD, unix.SIGPIPE, unix.SIGSEGV, unix.SIGKILL} {
		if slices.Contains(Signals(), s) {
			t.Errorf("%v is caught", s)
		}
	}
}
