package libctr

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// replaceFile puts the new content in place and leaves nothing beside it,
// whether or not the name existed.
func TestReplaceFile(t *testing.T) {
	dir := t.TempDir()
	name, tmp := filepath.Join(dir, "state.json"), filepath.Join(dir, "state.json.tmp")
	for _, content := range []string{"first", "second", "third"} {
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := replaceFile(tmp, name); err != nil {
			t.Fatalf("replaceFile (%s): %v", content, err)
		}
		if b, err := os.ReadFile(name); err != nil || string(b) != content {
			t.Fatalf("state.json = %q, %v; want %q", b, err, content)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("%d entries left in the directory, want state.json only", len(ents))
		}
	}
	if err := replaceFile(filepath.Join(dir, "missing"), name); err == nil {
		t.Fatal("replaceFile of a missing file succeeded")
	}
}

// Two saves at once each put their own content in place (the later
// commit wins) and leave nothing beside state.json.
func TestInterleavedSaves(t *testing.T) {
	c := &Container{dir: t.TempDir()}
	c.state.ID = "first"
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	c.state.ID = "a"
	commitA, err := c.prepareSave()
	if err != nil {
		t.Fatal(err)
	}
	c.state.ID = "b"
	commitB, err := c.prepareSave()
	if err != nil {
		t.Fatal(err)
	}
	if err := commitA(); err != nil {
		t.Fatal(err)
	}
	if err := commitB(); err != nil {
		t.Fatal(err)
	}
	var st State
	b, err := os.ReadFile(filepath.Join(c.dir, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UnmarshalJSON(b); err != nil || st.ID != "b" {
		t.Fatalf("state.json has id %q (%v), want b", st.ID, err)
	}
	if ents, _ := os.ReadDir(c.dir); len(ents) != 1 {
		t.Fatalf("%d entries left in the directory, want state.json only", len(ents))
	}
}

// On ext4 a file renamed over another is written out at once
// (auto_da_alloc); replaceFile's is not, so removing it later frees no
// blocks (and, with the "discard" mount option, waits for no discard).
// Needs a temp dir on ext4 with delayed allocation (this host's /tmp).
func TestReplaceFileAllocatesNoBlocks(t *testing.T) {
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil || fs.Type != unix.EXT4_SUPER_MAGIC {
		t.Skip("the temp dir is not on ext4")
	}
	content := make([]byte, 8192) // more than inline data holds
	write := func(name string) {
		if err := os.WriteFile(name, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	plain := filepath.Join(dir, "plain")
	write(plain)
	if !onlyDelalloc(t, plain) {
		t.Skip("a file just written has its blocks: no delayed allocation on this filesystem")
	}
	delayed := func(replace func(tmp, name string) error, tag string) bool {
		name, tmp := filepath.Join(dir, tag), filepath.Join(dir, tag+".tmp")
		for range 2 {
			write(tmp)
			if err := replace(tmp, name); err != nil {
				t.Fatal(err)
			}
		}
		return onlyDelalloc(t, name)
	}
	if delayed(os.Rename, "renamed") {
		t.Skip("a file renamed over another was not written out: no auto_da_alloc on this filesystem")
	}
	if !delayed(replaceFile, "replaced") {
		t.Error("replaceFile's file has blocks allocated before writeback")
	}
}

// onlyDelalloc reports whether the file's one extent is still waiting for
// delayed allocation (FIEMAP_EXTENT_DELALLOC), without syncing it.
func onlyDelalloc(t *testing.T, name string) bool {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const fsIocFiemap, extentDelalloc = 0xC020660B, 0x4
	var m struct {
		start, length                        uint64
		flags, mapped, count, reserved       uint32
		logical, physical, extLen, reserved2 uint64
		reserved3                            uint64
		extFlags                             uint32
		reserved4                            [3]uint32
	}
	m.length, m.count = ^uint64(0), 1
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&m))); errno != 0 {
		t.Fatalf("FS_IOC_FIEMAP %s: %v", name, errno)
	}
	if m.mapped != 1 {
		t.Fatalf("%s: %d extents mapped, want 1", name, m.mapped)
	}
	return m.extFlags&extentDelalloc != 0
}

// Forget removes a state directory only when its state.json is missing or
// corrupt: not a readable one, nor one it cannot read for another reason.
func TestForgetOnlyUnloadable(t *testing.T) {
	f := &Factory{Root: t.TempDir()}
	mk := func(id string, state func(path string) error) string {
		dir := filepath.Join(f.Root, id)
		if err := os.Mkdir(dir, 0o711); err != nil {
			t.Fatal(err)
		}
		if state != nil {
			if err := state(filepath.Join(dir, stateFile)); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	write := func(s string) func(string) error {
		return func(p string) error { return os.WriteFile(p, []byte(s), 0o600) }
	}
	for id, tc := range map[string]struct {
		state func(string) error
		gone  bool
	}{
		"missing":  {nil, true},
		"torn":     {write(""), true},
		"readable": {write(`{"id":"readable"}`), false},
		"unread":   {func(p string) error { return os.Mkdir(p, 0o700) }, false}, // EISDIR
	} {
		dir := mk(id, tc.state)
		err := f.Forget(id)
		_, serr := os.Stat(dir)
		if gone := os.IsNotExist(serr); gone != tc.gone {
			t.Errorf("%s: Forget (%v) removed the directory: %v, want %v", id, err, gone, tc.gone)
		}
		if (err == nil) != tc.gone {
			t.Errorf("%s: Forget: %v", id, err)
		}
	}
}
