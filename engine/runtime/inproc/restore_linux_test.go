package inproc

import (
	"context"
	"io"
	"slices"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/errdefs"
)

// forget makes the runtime behave as a daemon that died: it lets go of
// the container's output and forgets it; its monitor keeps it running.
func (f *fixture) forget(t *testing.T) {
	t.Helper()
	c, err := f.rt.get(f.id)
	if err != nil {
		t.Fatal(err)
	}
	c.init.io.close()
	c.init.lp.Release()
	f.rt.mu.Lock()
	delete(f.rt.ctrs, f.id)
	f.rt.mu.Unlock()
}

// A second runtime on the same root (the next daemon) adopts a container
// the first one started: its cleanup leaves it alone, Restore connects
// its output (what it wrote meanwhile first) and Wait gets its exit code.
func TestRestoreAdoptsRunningContainer(t *testing.T) {
	f := create(t, nil, nil, "sh", "-c", "trap 'echo two; echo err2 >&2; exit 5' USR1; echo one; while :; do sleep 0.1; done")
	pid := f.start(t)
	eventually(t, "first output", func() bool { return f.out.String() == "one\n" })
	f.forget(t)

	rt2, err := New(f.rt.factory.Root, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if gone := rt2.Cleanup(ctx, false); slices.Contains(gone, f.id) {
		t.Fatalf("cleanup destroyed an adoptable container: %v", gone)
	}
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil { // it ends while nobody reads
		t.Fatal(err)
	}
	eventually(t, "the program exits", func() bool { return syscall.Kill(pid, 0) != nil })
	out, errb := &safeBuffer{}, &safeBuffer{}
	got, err := rt2.Restore(ctx, f.id, container.IO{Stdout: out, Stderr: errb})
	if err != nil || got != pid {
		t.Fatalf("restore: pid %d (want %d), %v", got, pid, err)
	}
	f.rt = rt2 // the fixture's cleanup deletes it there
	st := f.wait(t)
	if st.Code != 5 || out.String() != "two\n" || errb.String() != "err2\n" {
		t.Fatalf("after adoption: %+v, stdout %q, stderr %q", st, out, errb)
	}
	if _, err := rt2.Restore(ctx, "no-such-container", container.IO{}); !errdefs.IsNotFound(err) {
		t.Errorf("restore of an unknown container: %v", err)
	}
}

// A container whose program runs on through the adoption, with a pty:
// the new runtime gets the pty master, output and input go on, and it can
// signal and pause it as if it had started it.
func TestRestoreAdoptsTerminal(t *testing.T) {
	f := create(t, func(s *specs.Spec) { s.Process.Terminal = true }, nil, "sh", "-c", "echo ready; read line; echo got:$line; exit 3")
	f.start(t)
	eventually(t, "first output", func() bool { return strings.Contains(f.out.String(), "ready") })
	f.forget(t)
	rt2, err := New(f.rt.factory.Root, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out := &safeBuffer{}
	inR, inW := io.Pipe()
	defer inW.Close()
	if _, err := rt2.Restore(ctx, f.id, container.IO{Terminal: true, Stdout: out, Stdin: inR}); err != nil {
		t.Fatal(err)
	}
	f.rt = rt2
	if err := rt2.Pause(ctx, f.id); err != nil {
		t.Fatal(err)
	}
	if err := rt2.Resume(ctx, f.id); err != nil {
		t.Fatal(err)
	}
	if _, err := inW.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	st := f.wait(t)
	if st.Code != 3 || !strings.Contains(out.String(), "got:hello") {
		t.Fatalf("after adoption: %+v, output %q", st, out)
	}
}
