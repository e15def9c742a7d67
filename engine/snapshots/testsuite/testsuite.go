// Package testsuite is the one test suite every snapshotter runs. A
// snapshotter's test calls Run with a function that opens the snapshotter
// at a root directory (called again on the same root to test reopening):
//
//	func TestOverlay(t *testing.T) {
//		testsuite.Run(t, func(root string) (snapshots.Snapshotter, error) {
//			return snapshots.NewOverlay(root)
//		})
//	}
//
// The tests mount what the snapshotter returns, so they need root; each mount
// is unmounted in t.Cleanup even when a test fails.
package testsuite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/wharf-project/wharf/engine/snapshots"
)

// Opener opens a snapshotter rooted at root.
type Opener func(root string) (snapshots.Snapshotter, error)

// Run runs the suite as subtests of t.
func Run(t *testing.T, open Opener) {
	if os.Geteuid() != 0 {
		t.Skip("snapshotter tests mount filesystems and need root")
	}
	for name, fn := range map[string]func(*testing.T, Opener){
		"Lifecycle":     testLifecycle,
		"Layers":        testLayers,
		"ViewReadOnly":  testViewReadOnly,
		"Errors":        testErrors,
		"RemoveOrder":   testRemoveOrder,
		"Reopen":        testReopen,
		"DeepChain":     testDeepChain,
		"ManyLayers":    testManyLayers,
		"Rebase":        testRebase,
		"ActiveMounts":  testActiveMounts,
		"OrphanCleanup": testOrphanCleanup,
	} {
		t.Run(name, func(t *testing.T) { fn(t, open) })
	}
}

func newSnapshotter(t *testing.T, open Opener) (snapshots.Snapshotter, string) {
	t.Helper()
	root := t.TempDir()
	sn, err := open(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sn.Close() })
	return sn, root
}

// mount mounts ms on a fresh temp dir and unmounts it at cleanup.
func mount(t *testing.T, ms []snapshots.Mount) string {
	t.Helper()
	dir := t.TempDir()
	if err := snapshots.MountAll(ms, dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := snapshots.UnmountAll(dir); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	return dir
}

// write applies a change in an active snapshot through its mounts.
func write(t *testing.T, ms []snapshots.Mount, fn func(dir string)) {
	t.Helper()
	dir := t.TempDir()
	if err := snapshots.MountAll(ms, dir); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := snapshots.UnmountAll(dir); err != nil {
			t.Fatal(err)
		}
	}()
	fn(dir)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
}

func assertFile(t *testing.T, dir, name, want string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if string(b) != want {
		t.Fatalf("%s = %q, want %q", name, b, want)
	}
}

func assertMissing(t *testing.T, dir, name string) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s should not exist (err %v)", name, err)
	}
}

// commitLayer prepares key on parent, lets fn change it, commits as name.
func commitLayer(t *testing.T, sn snapshots.Snapshotter, name, parent string, fn func(dir string)) {
	t.Helper()
	ctx := context.Background()
	ms, err := sn.Prepare(ctx, "prep-"+name, parent)
	must(t, err)
	write(t, ms, fn)
	must(t, sn.Commit(ctx, name, "prep-"+name))
}

func testLifecycle(t *testing.T, open Opener) {
	ctx := context.Background()
	sn, _ := newSnapshotter(t, open)
	ms, err := sn.Prepare(ctx, "active", "")
	must(t, err)
	info, err := sn.Stat(ctx, "active")
	must(t, err)
	if info.Kind != snapshots.KindActive || info.Name != "active" || info.Parent != "" {
		t.Fatalf("stat = %+v", info)
	}
	write(t, ms, func(dir string) { writeFile(t, dir, "etc/hostname", "base") })
	must(t, sn.Commit(ctx, "base", "active"))
	if _, err := sn.Stat(ctx, "active"); !errors.Is(err, snapshots.ErrNotFound) {
		t.Fatalf("active key survives commit: %v", err)
	}
	info, err = sn.Stat(ctx, "base")
	must(t, err)
	if info.Kind != snapshots.KindCommitted {
		t.Fatalf("kind = %v", info.Kind)
	}
	vms, err := sn.View(ctx, "view", "base")
	must(t, err)
	assertFile(t, mount(t, vms), "etc/hostname", "base")
	var names []string
	must(t, sn.Walk(ctx, func(_ context.Context, i snapshots.Info) error {
		names = append(names, i.Name+"/"+i.Kind.String())
		return nil
	}))
	if len(names) != 2 || names[0] != "base/committed" || names[1] != "view/view" {
		t.Fatalf("walk = %v", names)
	}
	if u, err := sn.Usage(ctx, "base"); err != nil || u <= 0 {
		t.Fatalf("usage = %d, %v", u, err)
	}
}

func testLayers(t *testing.T, open Opener) {
	ctx := context.Background()
	sn, _ := newSnapshotter(t, open)
	commitLayer(t, sn, "l1", "", func(d string) {
		writeFile(t, d, "a", "1")
		writeFile(t, d, "b", "1")
		writeFile(t, d, "dir/x", "1")
	})
	commitLayer(t, sn, "l2", "l1", func(d string) {
		assertFile(t, d, "a", "1")
		must(t, os.Remove(filepath.Join(d, "b")))
		must(t, os.RemoveAll(filepath.Join(d, "dir")))
		writeFile(t, d, "a", "2")
		writeFile(t, d, "c", "2")
	})
	v2, err := sn.View(ctx, "v2", "l2")
	must(t, err)
	d2 := mount(t, v2)
	assertFile(t, d2, "a", "2")
	assertFile(t, d2, "c", "2")
	assertMissing(t, d2, "b")
	assertMissing(t, d2, "dir")
	v1, err := sn.View(ctx, "v1", "l1")
	must(t, err)
	d1 := mount(t, v1)
	assertFile(t, d1, "a", "1")
	assertFile(t, d1, "b", "1")
	assertFile(t, d1, "dir/x", "1")
	assertMissing(t, d1, "c")
}

func testViewReadOnly(t *testing.T, open Opener) {
	ctx := context.Background()
	sn, _ := newSnapshotter(t, open)
	commitLayer(t, sn, "base", "", func(d string) { writeFile(t, d, "f", "x") })
	ms, err := sn.View(ctx, "ro", "base")
	must(t, err)
	d := mount(t, ms)
	if err := os.WriteFile(filepath.Join(d, "new"), nil, 0o644); err == nil {
		t.Fatal("wrote into a view")
	}
	if err := sn.Commit(ctx, "x", "ro"); !errors.Is(err, snapshots.ErrInvalid) {
		t.Fatalf("commit of view: %v", err)
	}
}

func testErrors(t *testing.T, open Opener) {
	ctx := context.Background()
	sn, _ := newSnapshotter(t, open)
	_, err := sn.Prepare(ctx, "a", "")
	must(t, err)
	if _, err := sn.Prepare(ctx, "a", ""); !errors.Is(err, snapshots.ErrAlreadyExists) {
		t.Fatalf("duplicate key: %v", err)
	}
	if _, err := sn.Prepare(ctx, "b", "a"); !errors.Is(err, snapshots.ErrInvalid) {
		t.Fatalf("active parent: %v", err)
	}
	if _, err := sn.Prepare(ctx, "c", "missing"); !errors.Is(err, snapshots.ErrNotFound) {
		t.Fatalf("missing parent: %v", err)
	}
	if _, err := sn.Stat(ctx, "missing"); !errors.Is(err, snapshots.ErrNotFound) {
		t.Fatalf("stat missing: %v", err)
	}
	if err := sn.Commit(ctx, "x", "missing"); !errors.Is(err, snapshots.ErrNotFound) {
		t.Fatalf("commit missing: %v", err)
	}
	if err := sn.Remove(ctx, "missing"); !errors.Is(err, snapshots.ErrNotFound) {
		t.Fatalf("remove missing: %v", err)
	}
}

func testRemoveOrder(t *testing.T, open Opener) {
	ctx := context.Background()
	sn, root := newSnapshotter(t, open)
	commitLayer(t, sn, "p", "", func(d string) { writeFile(t, d, "f", "p") })
	_, err := sn.Prepare(ctx, "c", "p")
	must(t, err)
	if err := sn.Remove(ctx, "p"); !errors.Is(err, snapshots.ErrInvalid) {
		t.Fatalf("removed a parent: %v", err)
	}
	must(t, sn.Remove(ctx, "c"))
	must(t, sn.Remove(ctx, "p"))
	ents, err := os.ReadDir(filepath.Join(root, "snapshots"))
	must(t, err)
	if len(ents) != 0 {
		t.Fatalf("files left behind: %v", ents)
	}
}

func testReopen(t *testing.T, open Opener) {
	ctx := context.Background()
	sn, root := newSnapshotter(t, open)
	commitLayer(t, sn, "base", "", func(d string) { writeFile(t, d, "f", "kept") })
	must(t, sn.Close())
	sn2, err := open(root)
	must(t, err)
	defer sn2.Close()
	info, err := sn2.Stat(ctx, "base")
	must(t, err)
	if info.Kind != snapshots.KindCommitted {
		t.Fatalf("kind after reopen = %v", info.Kind)
	}
	ms, err := sn2.View(ctx, "v", "base")
	must(t, err)
	assertFile(t, mount(t, ms), "f", "kept")
}

func testDeepChain(t *testing.T, open Opener) {
	ctx := context.Background()
	sn, _ := newSnapshotter(t, open)
	parent := ""
	names := []string{"l0", "l1", "l2", "l3", "l4", "l5"}
	for _, n := range names {
		commitLayer(t, sn, n, parent, func(d string) { writeFile(t, d, n, n) })
		parent = n
	}
	ms, err := sn.View(ctx, "top", parent)
	must(t, err)
	d := mount(t, ms)
	for _, n := range names {
		assertFile(t, d, n, n)
	}
}

func testActiveMounts(t *testing.T, open Opener) {
	ctx := context.Background()
	sn, _ := newSnapshotter(t, open)
	commitLayer(t, sn, "base", "", func(d string) { writeFile(t, d, "f", "base") })
	_, err := sn.Prepare(ctx, "rw", "base")
	must(t, err)
	ms, err := sn.Mounts(ctx, "rw")
	must(t, err)
	write(t, ms, func(d string) {
		assertFile(t, d, "f", "base")
		writeFile(t, d, "f", "changed")
	})
	ms, err = sn.Mounts(ctx, "rw")
	must(t, err)
	assertFile(t, mount(t, ms), "f", "changed")
	if _, err := sn.Mounts(ctx, "base"); !errors.Is(err, snapshots.ErrInvalid) {
		t.Fatalf("mounts of committed snapshot: %v", err)
	}
}

func testOrphanCleanup(t *testing.T, open Opener) {
	sn, root := newSnapshotter(t, open)
	must(t, sn.Close())
	orphan := filepath.Join(root, "snapshots", "deadbeef")
	must(t, os.MkdirAll(filepath.Join(orphan, "fs"), 0o755))
	sn2, err := open(root)
	must(t, err)
	sn2.Close()
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("orphan snapshot dir survived reopen")
	}
}

// testManyLayers stacks more layers than fit in one page of overlay mount
// options with absolute paths (Docker allows up to 127).
func testManyLayers(t *testing.T, open Opener) {
	ctx := context.Background()
	sn, _ := newSnapshotter(t, open)
	parent := ""
	const n = 120
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("layer-%03d", i)
		ms, err := sn.Prepare(ctx, "prep-"+name, parent)
		must(t, err)
		if dir, _, ok := snapshots.UpperDir(ms); ok {
			writeFile(t, dir, name, name) // as image unpacking does, without a mount
		} else {
			write(t, ms, func(d string) { writeFile(t, d, name, name) })
		}
		must(t, sn.Commit(ctx, name, "prep-"+name))
		parent = name
	}
	ms, err := sn.Prepare(ctx, "top", parent)
	must(t, err)
	d := mount(t, ms)
	for i := 0; i < n; i += 17 {
		name := fmt.Sprintf("layer-%03d", i)
		assertFile(t, d, name, name)
	}
	vms, err := sn.View(ctx, "view", parent)
	must(t, err)
	assertFile(t, mount(t, vms), "layer-119", "layer-119")
}

// testRebase runs for snapshotters that can commit a parentless snapshot
// onto a parent (snapshots.Rebaser) and checks the others refuse nothing
// they do not claim.
func testRebase(t *testing.T, open Opener) {
	ctx := context.Background()
	sn, _ := newSnapshotter(t, open)
	rb, ok := sn.(snapshots.Rebaser)
	if !ok {
		return // not a capability of this snapshotter: nothing to test
	}
	commitLayer(t, sn, "base", "", func(d string) { writeFile(t, d, "base", "b") })
	ms, err := sn.Prepare(ctx, "detached", "")
	must(t, err)
	write(t, ms, func(d string) { writeFile(t, d, "top", "t") })
	if err := rb.CommitOnto(ctx, "top", "detached", "missing"); !errors.Is(err, snapshots.ErrNotFound) {
		t.Fatalf("onto a missing parent: %v", err)
	}
	must(t, rb.CommitOnto(ctx, "top", "detached", "base"))
	info, err := sn.Stat(ctx, "top")
	must(t, err)
	if info.Parent != "base" || info.Kind != snapshots.KindCommitted {
		t.Fatalf("stat after rebase = %+v", info)
	}
	vms, err := sn.View(ctx, "v", "top")
	must(t, err)
	d := mount(t, vms)
	assertFile(t, d, "base", "b")
	assertFile(t, d, "top", "t")
	if err := sn.Remove(ctx, "base"); !errors.Is(err, snapshots.ErrInvalid) {
		t.Fatalf("parent of a rebased snapshot removed: %v", err)
	}
	// A snapshot that already has a parent cannot be rebased.
	_, err = sn.Prepare(ctx, "child", "base")
	must(t, err)
	if err := rb.CommitOnto(ctx, "x", "child", "top"); !errors.Is(err, snapshots.ErrInvalid) {
		t.Fatalf("rebase of a parented snapshot: %v", err)
	}
}
