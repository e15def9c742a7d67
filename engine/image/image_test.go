package image

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/snapshots"
	"github.com/wharf-project/wharf/internal/testimage"
)

func TestParseReference(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":             "docker.io/library/busybox:latest",
		"busybox:1.36":        "docker.io/library/busybox:1.36",
		"library/busybox":     "docker.io/library/busybox:latest",
		"user/app":            "docker.io/user/app:latest",
		"localhost:5000/a/b":  "localhost:5000/a/b:latest",
		"127.0.0.1:5000/x:v1": "127.0.0.1:5000/x:v1",
		"busybox@" + digest.FromString("x").String(): "docker.io/library/busybox@" + digest.FromString("x").String(),
	} {
		ref, err := ParseReference(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if ref.String() != want {
			t.Errorf("%s -> %s, want %s", in, ref, want)
		}
	}
	for _, bad := range []string{"UPPER", "a b", "busybox:", ":tag", "x@sha256:short"} {
		if _, err := ParseReference(bad); !errdefs.IsInvalidParameter(err) {
			t.Errorf("%q: want invalid parameter, got %v", bad, err)
		}
	}
	if f := Familiar(must1(ParseReference("docker.io/library/busybox:latest"))); f != "busybox:latest" {
		t.Errorf("familiar = %s", f)
	}
}

func must1[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestChainIDsKnownValues(t *testing.T) {
	// DiffIDs sha256("a"), sha256("b"), sha256("c"); the expected chain IDs
	// were computed independently with sha256sum over "<chain> <diffID>".
	diffs := []digest.Digest{
		"sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
		"sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d",
		"sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6",
	}
	want := []digest.Digest{
		diffs[0],
		"sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676",
		"sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106",
	}
	got := ChainIDs(diffs)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("chain[%d] = %s, want %s", i, got[i], want[i])
		}
	}
}

func newService(t *testing.T, root, snapshotter string) *Service {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the image store unpacks layers with owners and device nodes and needs root")
	}
	s, err := NewService(context.Background(), Config{Root: root, Snapshotter: snapshotter})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func load(t *testing.T, s *Service, img *testimage.Image, tags ...string) string {
	t.Helper()
	var tarball, out bytes.Buffer
	if err := img.WriteDockerSave(&tarball, tags...); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(context.Background(), &tarball, false, &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// viewFile reads a file of an image's top layer through a snapshot view.
func viewFile(t *testing.T, s *Service, id, name string) ([]byte, error) {
	t.Helper()
	ctx := context.Background()
	cfg, err := s.config(ctx, digest.Digest(id))
	if err != nil {
		t.Fatal(err)
	}
	chains := ChainIDs(cfg.RootFS.DiffIDs)
	key := "view-" + randomHex()
	ms, err := s.sn.View(ctx, key, chains[len(chains)-1].String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.sn.Remove(ctx, key)
	dir := t.TempDir()
	if err := snapshots.MountAll(ms, dir); err != nil {
		t.Fatal(err)
	}
	defer snapshots.UnmountAll(dir)
	return os.ReadFile(filepath.Join(dir, name))
}

func TestLoadBusybox(t *testing.T) {
	for _, sn := range []string{"overlay", "native"} {
		t.Run(sn, func(t *testing.T) {
			s := newService(t, t.TempDir(), sn)
			img, err := testimage.Busybox()
			if err != nil {
				t.Fatal(err)
			}
			out := load(t, s, img, "busybox:latest")
			if !bytes.Contains([]byte(out), []byte("Loaded image: busybox:latest")) {
				t.Fatalf("load output = %s", out)
			}
			ctx := context.Background()
			ins, err := s.Inspect(ctx, "busybox")
			if err != nil {
				t.Fatal(err)
			}
			if ins.ID != img.ID() || len(ins.RepoTags) != 1 || ins.RepoTags[0] != "busybox:latest" {
				t.Fatalf("inspect = %+v", ins)
			}
			if len(ins.RootFS.Layers) != 1 || ins.RootFS.Layers[0] != img.Layers[0].DiffID.String() {
				t.Fatalf("rootfs = %v", ins.RootFS.Layers)
			}
			if ins.Size <= 1<<20 || ins.Config == nil || len(ins.Config.Cmd) != 1 || ins.Config.Cmd[0] != "sh" {
				t.Fatalf("size %d config %+v", ins.Size, ins.Config)
			}
			bin, err := viewFile(t, s, img.ID(), "bin/busybox")
			if err != nil {
				t.Fatal(err)
			}
			want, _ := os.ReadFile(testimage.BusyboxPath)
			if !bytes.Equal(bin, want) {
				t.Fatal("unpacked busybox differs from /bin/busybox")
			}
			// Short ID and ID prefix resolve too.
			for _, n := range []string{img.ID(), img.ConfigDigest.Encoded()[:12], "docker.io/library/busybox:latest"} {
				if _, err := s.Inspect(ctx, n); err != nil {
					t.Errorf("inspect %s: %v", n, err)
				}
			}
			if _, err := s.Inspect(ctx, "nosuch"); !errdefs.IsNotFound(err) {
				t.Errorf("unknown image: %v", err)
			}
			h, err := s.History(ctx, "busybox")
			if err != nil || len(h) != 1 || h[0].ID != img.ID() || h[0].CreatedBy != "layer 0" || h[0].Size != ins.Size {
				t.Fatalf("history = %+v, %v", h, err)
			}
		})
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	root := t.TempDir()
	s := newService(t, root, "")
	img, _ := testimage.Synthetic("persist", 2)
	load(t, s, img, "persist:v1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := newService(t, root, "")
	ins, err := s2.Inspect(context.Background(), "persist:v1")
	if err != nil {
		t.Fatal(err)
	}
	if ins.ID != img.ID() || len(ins.RootFS.Layers) != 2 {
		t.Fatalf("after reopen: %+v", ins)
	}
	b, err := viewFile(t, s2, img.ID(), "layer1/persist")
	if err != nil || string(b) != "persist layer 1\n" {
		t.Fatalf("layer content after reopen = %q, %v", b, err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newService(t, t.TempDir(), "")
	img, _ := testimage.Synthetic("round", 3)
	load(t, s, img, "round:trip")
	var saved bytes.Buffer
	if err := s.Save(ctx, []string{"round:trip"}, &saved); err != nil {
		t.Fatal(err)
	}
	s2 := newService(t, t.TempDir(), "native")
	var out bytes.Buffer
	if err := s2.Load(ctx, bytes.NewReader(saved.Bytes()), true, &out); err != nil {
		t.Fatal(err)
	}
	ins, err := s2.Inspect(ctx, "round:trip")
	if err != nil || ins.ID != img.ID() {
		t.Fatalf("reloaded = %+v, %v", ins, err)
	}
	for _, l := range img.Layers {
		got, err := s2.cs.ReadBlob(ctx, l.Digest)
		if err != nil || !bytes.Equal(got, l.Blob) {
			t.Fatalf("layer %s not byte-identical after save/load: %v", l.Digest, err)
		}
	}
	if err := s.Save(ctx, []string{"round:trip", "nosuch"}, io.Discard); !errdefs.IsNotFound(err) {
		t.Fatalf("save of unknown image: %v", err)
	}
}

func TestLoadOCILayout(t *testing.T) {
	ctx := context.Background()
	s := newService(t, t.TempDir(), "")
	img, _ := testimage.Synthetic("oci", 1)
	var buf, out bytes.Buffer
	if err := img.WriteOCILayout(&buf, "example.com/oci/app:1.0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, &buf, false, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Inspect(ctx, "example.com/oci/app:1.0"); err != nil {
		t.Fatalf("%v (output %s)", err, out.String())
	}
	// Without a name the image is loaded by ID.
	img2, _ := testimage.Synthetic("oci2", 1)
	buf.Reset()
	out.Reset()
	img2.WriteOCILayout(&buf, "")
	if err := s.Load(ctx, &buf, false, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bytes(), []byte("Loaded image ID: "+img2.ID())) {
		t.Fatalf("output = %s", out.String())
	}
}

func TestLoadBadInput(t *testing.T) {
	ctx := context.Background()
	s := newService(t, t.TempDir(), "")
	img, _ := testimage.Synthetic("bad", 1)
	var good bytes.Buffer
	img.WriteDockerSave(&good, "bad:latest")
	cases := map[string][]byte{
		"truncated":    good.Bytes()[:good.Len()/2],
		"garbage":      []byte("this is not a tar archive at all, not even close................" + string(make([]byte, 600))),
		"empty":        make([]byte, 1024),
		"oversizeMeta": oversizeTar(t),
	}
	for name, b := range cases {
		err := s.Load(ctx, bytes.NewReader(b), true, io.Discard)
		if !errdefs.IsInvalidParameter(err) {
			t.Errorf("%s: want invalid parameter, got %v", name, err)
		}
	}
	list, err := s.List(ctx, ListOptions{})
	if err != nil || len(list) != 0 {
		t.Fatalf("bad loads left images: %v %v", list, err)
	}
	ents, _ := os.ReadDir(filepath.Join(s.root, "content", "ingest"))
	if len(ents) != 0 {
		t.Fatalf("bad loads left ingests: %v", ents)
	}
}
