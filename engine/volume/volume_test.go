package volume

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	eventtypes "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/moby/sys/mountinfo"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) Log(_ context.Context, typ eventtypes.Type, action eventtypes.Action, actor eventtypes.Actor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, string(typ)+" "+string(action)+" "+actor.ID)
}

func open(t *testing.T, root string, ev EventLogger) *Service {
	t.Helper()
	s, err := Open(context.Background(), Config{Root: root, Events: ev})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func names(t *testing.T, s *Service, f filters.Args) string {
	t.Helper()
	vols, _, err := s.List(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, v := range vols {
		n = append(n, v.Name)
	}
	return strings.Join(n, ",")
}

// sorted is the names in List's order (by name), comma-joined.
func sorted(n ...string) string {
	sort.Strings(n)
	return strings.Join(n, ",")
}

func TestCreateGetListRemove(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	ev := &recorder{}
	s := open(t, root, ev)
	v, err := s.Create(ctx, "data", "", nil, map[string]string{"team": "a"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Driver != "local" || v.Scope != "local" || v.Mountpoint != filepath.Join(root, "volumes", "data", "_data") || v.Labels["team"] != "a" || v.CreatedAt == "" {
		t.Fatalf("volume = %+v", v)
	}
	if fi, err := os.Stat(v.Mountpoint); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
		t.Fatalf("data dir: %v %v", fi, err)
	}
	// Same name again: the existing volume, no second event.
	again, err := s.Create(ctx, "data", "local", nil, nil)
	if err != nil || again.Labels["team"] != "a" {
		t.Fatalf("re-create: %+v %v", again, err)
	}
	anon, err := s.Create(ctx, "", "", nil, nil)
	if err != nil || len(anon.Name) != 64 {
		t.Fatalf("anonymous: %+v %v", anon, err)
	}
	if _, ok := anon.Labels[AnonymousLabel]; !ok {
		t.Fatalf("anonymous label missing: %+v", anon.Labels)
	}
	if _, err := s.Create(ctx, "other", "", nil, map[string]string{"team": "b"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Acquire("other", "c1"); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{
		`{}`:                                  sorted(anon.Name, "data", "other"),
		`{"name":["dat"]}`:                    "data",
		`{"label":["team=b"]}`:                "other",
		`{"label":["team"]}`:                  "data,other",
		`{"dangling":["true"]}`:               sorted(anon.Name, "data"),
		`{"dangling":["false"]}`:              "other",
		`{"driver":["local"],"name":["oth"]}`: "other",
		`{"driver":["nfs"]}`:                  "",
	} {
		args, err := filters.FromJSON(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(t, s, args); got != want {
			t.Errorf("list %s = %q, want %q", f, got, want)
		}
	}
	if _, _, err := s.List(ctx, filters.NewArgs(filters.Arg("nope", "x"))); !errdefs.IsInvalidParameter(err) {
		t.Errorf("unknown filter: %v", err)
	}
	if _, _, err := s.List(ctx, filters.NewArgs(filters.Arg("dangling", "maybe"))); !errdefs.IsInvalidParameter(err) {
		t.Errorf("bad dangling: %v", err)
	}

	err = s.Remove(ctx, "other", false)
	if !errdefs.IsConflict(err) || err.Error() != "remove other: volume is in use - [c1]" {
		t.Fatalf("remove in use: %v", err)
	}
	if err := s.Remove(ctx, "other", true); !errdefs.IsConflict(err) {
		t.Fatalf("force does not override in use: %v", err)
	}
	s.Release("other", "c1")
	if err := s.Remove(ctx, "other", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "other"); !errdefs.IsNotFound(err) || err.Error() != "get other: no such volume" {
		t.Fatalf("get removed: %v", err)
	}
	if err := s.Remove(ctx, "other", false); !errdefs.IsNotFound(err) {
		t.Fatalf("remove missing: %v", err)
	}
	if err := s.Remove(ctx, "other", true); err != nil {
		t.Fatalf("force remove missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "volumes", "other")); !os.IsNotExist(err) {
		t.Fatalf("directory left: %v", err)
	}
	ev.mu.Lock()
	got := strings.Join(ev.events, "\n")
	ev.mu.Unlock()
	want := "volume create data\nvolume create " + anon.Name + "\nvolume create other\nvolume destroy other"
	if got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}

	// Records survive a restart.
	s.Close()
	s2 := open(t, root, nil)
	if got := names(t, s2, filters.NewArgs()); got != sorted(anon.Name, "data") {
		t.Fatalf("after reopen: %q", got)
	}
	v2, _ := s2.Get(ctx, "data")
	if v2.CreatedAt != v.CreatedAt || v2.Labels["team"] != "a" {
		t.Fatalf("after reopen: %+v vs %+v", v2, v)
	}
}

func TestCreateErrors(t *testing.T) {
	s := open(t, t.TempDir(), nil)
	ctx := context.Background()
	for _, c := range []struct {
		name, driver string
		opts         map[string]string
		status       int
		msg          string
	}{
		{"a", "", nil, 400, "create a: volume name is too short, names should be at least two alphanumeric characters"},
		{"a/b", "", nil, 400, `create a/b: "a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`},
		{"ok", "nfsplugin", nil, 404, `create ok: error looking up volume plugin nfsplugin: plugin "nfsplugin" not found`},
		{"ok", "", map[string]string{"foo": "bar"}, 400, `create ok: invalid option: "foo"`},
		{"ok", "", map[string]string{"type": "tmpfs"}, 400, `create ok: missing required option: "device"`},
		{"ok", "", map[string]string{"o": "size=1m", "device": "tmpfs"}, 400, `create ok: missing required option: "type"`},
		{"ok", "", map[string]string{"size": "10m"}, 400, "create ok: quota size requested but no quota support"},
	} {
		_, err := s.Create(ctx, c.name, c.driver, c.opts, nil)
		if err == nil || httputils.StatusFromError(err) != c.status || err.Error() != c.msg {
			t.Errorf("create %q %v: %v (%d), want %d %q", c.name, c.opts, err, httputils.StatusFromError(err), c.status, c.msg)
		}
	}
	if names(t, s, filters.NewArgs()) != "" {
		t.Error("a failed create left a volume")
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	ev := &recorder{}
	s := open(t, t.TempDir(), ev)
	anon, _ := s.Create(ctx, "", "", nil, nil)
	used, _ := s.Create(ctx, "", "", nil, nil)
	s.Acquire(used.Name, "c1")
	s.Create(ctx, "named", "", nil, map[string]string{"keep": "no"})
	s.Create(ctx, "kept", "", nil, map[string]string{"keep": "yes"})
	s.Create(ctx, "tmp", "", map[string]string{"type": "tmpfs", "device": "tmpfs"}, nil)
	if err := os.WriteFile(filepath.Join(anon.Mountpoint, "f"), make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Prune(ctx, filters.NewArgs())
	if err != nil || strings.Join(rep.VolumesDeleted, ",") != anon.Name || rep.SpaceReclaimed != 1000 {
		t.Fatalf("prune anonymous: %+v %v", rep, err)
	}
	rep, err = s.Prune(ctx, filters.NewArgs(filters.Arg("all", "true"), filters.Arg("label!", "keep=yes")))
	if err != nil || strings.Join(rep.VolumesDeleted, ",") != "named" {
		t.Fatalf("prune all: %+v %v", rep, err)
	}
	if got, left := names(t, s, filters.NewArgs()), sorted("kept", "tmp", used.Name); got != left {
		t.Fatalf("left: %q, want %q", got, left)
	}
	for _, f := range []filters.Args{
		filters.NewArgs(filters.Arg("all", "maybe")),
		filters.NewArgs(filters.Arg("all", "1"), filters.Arg("all", "0")),
		filters.NewArgs(filters.Arg("dangling", "true")),
	} {
		if _, err := s.Prune(ctx, f); !errdefs.IsInvalidParameter(err) {
			t.Errorf("prune %v: %v", f, err)
		}
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if last := ev.events[len(ev.events)-1]; last != "volume prune " {
		t.Errorf("last event %q", last)
	}
}

func requireRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting volumes needs root")
	}
}

func TestTmpfsVolumeMountedOnFirstUse(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := open(t, t.TempDir(), nil)
	v, err := s.Create(ctx, "scratch", "", map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m,mode=0700"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmountDevice(v.Mountpoint) })
	if m, _ := mountinfo.Mounted(v.Mountpoint); m {
		t.Fatal("mounted before first use")
	}
	p1, err := s.Mount(ctx, "scratch", "c1")
	if err != nil || p1 != v.Mountpoint {
		t.Fatal(p1, err)
	}
	p2, _ := s.Mount(ctx, "scratch", "c2")
	infos, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(p2))
	if err != nil || len(infos) != 1 || infos[0].FSType != "tmpfs" || !strings.Contains(infos[0].VFSOptions, "size=1024k") || !strings.Contains(infos[0].VFSOptions, "mode=700") {
		t.Fatalf("mount: %+v %v", infos, err)
	}
	if err := s.Unmount(ctx, "scratch", "c1"); err != nil {
		t.Fatal(err)
	}
	if m, _ := mountinfo.Mounted(v.Mountpoint); !m {
		t.Fatal("unmounted while c2 still uses it")
	}
	if err := s.Unmount(ctx, "scratch", "c2"); err != nil {
		t.Fatal(err)
	}
	if m, _ := mountinfo.Mounted(v.Mountpoint); m {
		t.Fatal("still mounted after the last user")
	}
}

func TestBindVolumeReadOnlyAndRemoveKeepsHostFiles(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := open(t, t.TempDir(), nil)
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := s.Create(ctx, "hostdir", "", map[string]string{"type": "none", "device": host, "o": "bind,ro"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmountDevice(v.Mountpoint) })
	p, err := s.Mount(ctx, "hostdir", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(p, "keep")); err != nil || string(b) != "x" {
		t.Fatalf("bind content: %q %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(p, "new"), nil, 0o644); err == nil {
		t.Fatal("a read-only bind volume was writable")
	}
	// Removing while still mounted (a crash left it so) must not delete the host's files.
	if err := s.Remove(ctx, "hostdir", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(host, "keep")); err != nil {
		t.Fatalf("host file gone: %v", err)
	}
}

func TestParseMountOptions(t *testing.T) {
	flags, data := parseMountOptions("ro,nosuid,size=64m,,uid=1000,rw,noexec")
	if data != "size=64m,uid=1000" {
		t.Errorf("data %q", data)
	}
	const want = 0x2 | 0x8 // MS_NOSUID | MS_NOEXEC; rw cleared ro
	if flags != want {
		t.Errorf("flags %#x, want %#x", flags, want)
	}
}

// A device volume a daemon left mounted (it died, or stopped with
// live-restore: Detach) stays mounted for the container that outlived it:
// the next daemon's Mount takes that mount over instead of stacking a new,
// empty one, and UnmountUnused unmounts only what nobody took.
func TestDeviceVolumeTakenOverByTheNextDaemon(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	root := t.TempDir()
	s1, err := Open(ctx, Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	opts := map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
	used, err := s1.Create(ctx, "used", "", opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	left, err := s1.Create(ctx, "left", "", opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range []string{used.Mountpoint, left.Mountpoint} {
			for i := 0; i < 3; i++ {
				_ = unmountDevice(p)
			}
		}
	})
	for _, n := range []string{"used", "left"} {
		if _, err := s1.Mount(ctx, n, "c1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(used.Mountpoint, "f"), []byte("kept"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s1.Detach(); err != nil {
		t.Fatal(err)
	}

	s2 := open(t, root, nil)
	for _, p := range []string{used.Mountpoint, left.Mountpoint} {
		if m, _ := mountinfo.Mounted(p); !m {
			t.Fatalf("%s unmounted by the next daemon's Open", p)
		}
	}
	if _, err := s2.Mount(ctx, "used", "c1"); err != nil {
		t.Fatal(err)
	}
	infos, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(used.Mountpoint))
	if b, rerr := os.ReadFile(filepath.Join(used.Mountpoint, "f")); err != nil || len(infos) != 1 || rerr != nil || string(b) != "kept" {
		t.Fatalf("after the takeover: %d mounts (%v), file %q (%v)", len(infos), err, b, rerr)
	}
	s2.UnmountUnused()
	if m, _ := mountinfo.Mounted(left.Mountpoint); m {
		t.Error("a volume nobody took over is still mounted")
	}
	if m, _ := mountinfo.Mounted(used.Mountpoint); !m {
		t.Error("the volume taken over was unmounted")
	}
	if err := s2.Unmount(ctx, "used", "c1"); err != nil {
		t.Fatal(err)
	}
	if m, _ := mountinfo.Mounted(used.Mountpoint); m {
		t.Error("still mounted after its last user")
	}
}
