package container_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	containertypes "github.com/docker/docker/api/types/container"
	eventtypes "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/moby/sys/mountinfo"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/image"
	"github.com/wharf-project/wharf/engine/volume"
)

type events struct {
	mu  sync.Mutex
	got []string
}

func (e *events) Log(_ context.Context, typ eventtypes.Type, action eventtypes.Action, actor eventtypes.Actor) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, string(typ)+" "+string(action)+" "+actor.Attributes["name"])
}

type fixture struct {
	root   string
	images *image.Service
	vols   *volume.Service
	svc    *container.Service
	ev     *events
}

// newFixture opens real image and volume stores under a temp data root and
// imports a small image "app:1" with an ENV, a WORKDIR, a VOLUME holding a
// file (for copy-up) and a user in its /etc/passwd.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the image store unpacks layers and mounts snapshots: needs root")
	}
	ctx := context.Background()
	f := &fixture{root: t.TempDir(), ev: &events{}}
	var err error
	f.images, err = image.NewService(ctx, image.Config{Root: f.root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.images.Close() })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct {
		name, body string
		dir        bool
	}{
		{"etc/", "", true},
		{"etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n", false},
		{"etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:app\n", false},
		{"seed/", "", true},
		{"seed/hello.txt", "from the image\n", false},
	} {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e.body)), Uid: 0, Gid: 0}
		if e.dir {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		tw.WriteHeader(h)
		io.WriteString(tw, e.body)
	}
	tw.Close()
	ref, _ := image.WithTag("app", "1")
	_, err = f.images.Import(ctx, &buf, image.ImportOptions{Ref: ref, Changes: []string{
		"ENV IMG=1 SHARED=image", "WORKDIR /seed", "VOLUME /seed", "CMD [\"run\"]", "LABEL from=image",
	}}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	f.vols, err = volume.Open(ctx, volume.Config{Root: f.root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.vols.Close() })
	f.svc = f.open(t)
	return f
}

func (f *fixture) open(t *testing.T) *container.Service {
	t.Helper()
	svc, err := container.New(context.Background(), container.Config{Root: f.root, Images: f.images, Snapshotter: f.images.Snapshotter(),
		SnapshotterName: f.images.SnapshotterName(), Volumes: f.vols, Events: f.ev})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestCreateMergesImageAndPreparesStart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	resp, err := f.svc.Create(ctx, container.CreateParams{Name: "one",
		Config:     &containertypes.Config{Image: "app:1", Env: []string{"SHARED=user"}, User: "app", Labels: map[string]string{"mine": "x"}},
		HostConfig: &containertypes.HostConfig{NetworkMode: "none", Binds: []string{filepath.Join(f.root, "hostdir") + ":/hostdir"}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Inspect(ctx, "one", false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Config.Env, " ") != "SHARED=user IMG=1" || c.Config.WorkingDir != "/seed" || strings.Join(c.Config.Cmd, " ") != "run" ||
		c.Config.Labels["from"] != "image" || c.Config.Labels["mine"] != "x" || c.Path != "run" {
		t.Fatalf("merged config: %+v", c.Config)
	}
	var anon containertypes.MountPoint
	for _, m := range c.Mounts {
		if m.Destination == "/seed" {
			anon = m
		}
	}
	if anon.Type != mount.TypeVolume || len(anon.Name) != 64 || anon.Source == "" {
		t.Fatalf("anonymous image volume: %+v", c.Mounts)
	}
	if got := f.vols.Refs(anon.Name); len(got) != 1 || got[0] != resp.ID {
		t.Fatalf("volume refs %v", got)
	}

	spec, err := f.svc.PrepareStart(ctx, resp.ID)
	if err != nil {
		t.Fatal(err)
	}
	rootfs := spec.Root.Path
	t.Cleanup(func() { f.svc.CleanupStop(context.Background(), resp.ID) })
	// Preparing again (a retried start) stacks nothing: one CleanupStop undoes it.
	if _, err := f.svc.PrepareStart(ctx, resp.ID); err != nil {
		t.Fatal(err)
	}
	if m, _ := mountinfo.Mounted(rootfs); !m {
		t.Fatal("rootfs not mounted")
	}
	if b, err := os.ReadFile(filepath.Join(rootfs, "etc/passwd")); err != nil || !strings.Contains(string(b), "app:x:1000") {
		t.Fatalf("rootfs content: %v", err)
	}
	if u := spec.Process.User; u.UID != 1000 || u.GID != 1000 || len(u.AdditionalGids) != 1 || u.AdditionalGids[0] != 50 {
		t.Fatalf("user %+v", u)
	}
	if b, err := os.ReadFile(filepath.Join(anon.Source, "hello.txt")); err != nil || string(b) != "from the image\n" {
		t.Fatalf("copy-up into the new volume: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(f.root, "hostdir")); err != nil {
		t.Fatalf("-v source not made: %v", err)
	}
	after, _ := f.svc.Inspect(ctx, resp.ID, false)
	for _, p := range []string{after.HostnamePath, after.HostsPath, after.ResolvConfPath} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("etc file: %v", err)
		}
	}
	if b, _ := os.ReadFile(after.HostnamePath); string(b) != resp.ID[:12]+"\n" {
		t.Fatalf("hostname file %q", b)
	}
	f.svc.CleanupStop(ctx, resp.ID)
	if m, _ := mountinfo.Mounted(rootfs); m {
		t.Fatal("rootfs still mounted after CleanupStop")
	}

	// The image is in use; the records and volume references survive a reopen.
	if !f.svc.ImageInUse(c.Image) {
		t.Fatal("image not in use")
	}
	f.vols.Close() // a restart: references are in memory only
	if f.vols, err = volume.Open(ctx, volume.Config{Root: f.root}); err != nil {
		t.Fatal(err)
	}
	svc2 := f.open(t)
	if _, err := svc2.Inspect(ctx, "one", false); err != nil {
		t.Fatal(err)
	}
	if got := f.vols.Refs(anon.Name); len(got) != 1 || got[0] != resp.ID {
		t.Fatalf("reopened store did not re-acquire the volume: %v", got)
	}
	// rm -v removes the anonymous volume and the snapshot.
	if err := svc2.Remove(ctx, "one", container.RemoveOptions{RemoveVolumes: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.vols.Get(ctx, anon.Name); !errdefs.IsNotFound(err) {
		t.Fatalf("anonymous volume kept: %v", err)
	}
	if _, err := f.images.Snapshotter().Stat(ctx, resp.ID); err == nil {
		t.Fatal("rootfs snapshot kept")
	}
	f.ev.mu.Lock()
	defer f.ev.mu.Unlock()
	if got := strings.Join(f.ev.got, ","); got != "container create one,volume mount ,volume unmount ,container destroy one" {
		t.Fatalf("events %s", got)
	}
}

func TestCreateErrorsAndNames(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	create := func(name string, cfg *containertypes.Config, hc *containertypes.HostConfig) (containertypes.CreateResponse, error) {
		if hc == nil {
			hc = &containertypes.HostConfig{}
		}
		return f.svc.Create(ctx, container.CreateParams{Name: name, Config: cfg, HostConfig: hc})
	}
	if _, err := create("", &containertypes.Config{Image: "nosuch"}, nil); !errdefs.IsNotFound(err) || err.Error() != "No such image: nosuch:latest" {
		t.Fatalf("unknown image: %v", err)
	}
	if _, err := create("", nil, nil); !errdefs.IsInvalidParameter(err) || err.Error() != "Config cannot be empty in order to create a container" {
		t.Fatalf("no config: %v", err)
	}
	if _, err := create("bad name", &containertypes.Config{Image: "app:1"}, nil); !errdefs.IsInvalidParameter(err) ||
		err.Error() != "Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed" {
		t.Fatalf("bad name: %v", err)
	}
	first, err := create("dup", &containertypes.Config{Image: "app:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = create("/dup", &containertypes.Config{Image: "app:1"}, nil)
	if want := `Conflict. The container name "/dup" is already in use by container "` + first.ID + `". You have to remove (or rename) that container to be able to reuse that name.`; !errdefs.IsConflict(err) || err.Error() != want {
		t.Fatalf("conflict: %v", err)
	}
	// A failed create leaves nothing: no record, no name, no volume, no snapshot.
	_, err = create("left", &containertypes.Config{Image: "app:1"}, &containertypes.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/nonexistent-x", Target: "/x"}}})
	if !errdefs.IsInvalidParameter(err) {
		t.Fatalf("bad mount: %v", err)
	}
	if _, err := f.svc.Get("left"); !errdefs.IsNotFound(err) {
		t.Fatalf("name kept after failed create: %v", err)
	}
	generated, err := create("", &containertypes.Config{Image: "app:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := f.svc.Inspect(ctx, generated.ID, false)
	if parts := strings.Split(strings.TrimPrefix(g.Name, "/"), "_"); len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		t.Fatalf("generated name %q", g.Name)
	}
	// Prefix resolution: a one-character prefix is ambiguous when two ids share it.
	list, _ := f.svc.List(ctx, container.ListOptions{All: true, Filters: filters.NewArgs()})
	if len(list) != 2 {
		t.Fatalf("list %d", len(list))
	}
	if list[0].ID[0] == list[1].ID[0] {
		if _, err := f.svc.Get(list[0].ID[:1]); !errdefs.IsInvalidParameter(err) || !strings.HasPrefix(err.Error(), "multiple IDs found with provided prefix: ") {
			t.Fatalf("ambiguous: %v", err)
		}
	}
	if _, err := f.svc.Get("zzzz"); !errdefs.IsNotFound(err) || err.Error() != "No such container: zzzz" {
		t.Fatalf("unknown: %v", err)
	}
	if err := f.svc.Rename(ctx, "dup", g.Name); !errdefs.IsConflict(err) || !strings.HasPrefix(err.Error(), "Error when allocating new name: Conflict. The container name") {
		t.Fatalf("rename onto a used name: %v", err)
	}
	if err := f.svc.Rename(ctx, "dup", "dup"); !errdefs.IsInvalidParameter(err) {
		t.Fatalf("rename to itself: %v", err)
	}
	if err := f.svc.Start(ctx, "dup"); !errdefs.IsNotImplemented(err) {
		t.Fatalf("start without runtime: %v", err)
	}
}
