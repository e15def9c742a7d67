package image

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/opencontainers/go-digest"

	"github.com/wharf-project/wharf/engine/content"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/snapshots"
	"github.com/wharf-project/wharf/internal/testimage"
)

func TestTagAndDeleteRules(t *testing.T) {
	ctx := context.Background()
	s := newService(t, t.TempDir(), "")
	img, _ := testimage.Synthetic("del", 2)
	load(t, s, img, "app:1")
	if err := s.Tag(ctx, "app:1", "app", "2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, "app:1", "other/app", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, "nosuch", "x", ""); !errdefs.IsNotFound(err) {
		t.Fatalf("tag of unknown: %v", err)
	}
	if err := s.Tag(ctx, "app:1", "Bad Repo", ""); !errdefs.IsInvalidParameter(err) {
		t.Fatalf("bad repo: %v", err)
	}
	ins, _ := s.Inspect(ctx, img.ID())
	if strings.Join(ins.RepoTags, ",") != "app:1,app:2,other/app:latest" || ins.Metadata.LastTagTime.IsZero() {
		t.Fatalf("tags = %v, tag time %v", ins.RepoTags, ins.Metadata.LastTagTime)
	}
	// By ID with several repositories: conflict unless forced.
	if _, err := s.Delete(ctx, img.ID(), DeleteOptions{}); !errdefs.IsConflict(err) {
		t.Fatalf("delete by id: %v", err)
	}
	// By tag: only untagged while other tags remain.
	resp, err := s.Delete(ctx, "app:2", DeleteOptions{})
	if err != nil || len(resp) != 1 || resp[0].Untagged != "app:2" {
		t.Fatalf("untag = %+v, %v", resp, err)
	}
	// In use: the last tag cannot go without force.
	s.SetInUse(func(id string) bool { return id == img.ID() })
	s.Delete(ctx, "other/app", DeleteOptions{})
	if _, err := s.Delete(ctx, "app:1", DeleteOptions{}); !errdefs.IsConflict(err) {
		t.Fatalf("delete in use: %v", err)
	}
	s.SetInUse(nil)
	resp, err = s.Delete(ctx, "app:1", DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if resp[0].Untagged != "app:1" || resp[1].Deleted != img.ID() || len(resp) != 4 {
		t.Fatalf("delete = %+v (want untag, image and 2 layers)", resp)
	}
	if _, err := s.Inspect(ctx, img.ID()); !errdefs.IsNotFound(err) {
		t.Fatalf("image survives: %v", err)
	}
	assertNoLayers(t, s)
}

func assertNoLayers(t *testing.T, s *Service) {
	t.Helper()
	var left []string
	s.sn.Walk(context.Background(), func(_ context.Context, i snapshots.Info) error { left = append(left, i.Name); return nil })
	if len(left) != 0 {
		t.Fatalf("snapshots left: %v", left)
	}
	var blobs int
	s.cs.Walk(context.Background(), func(i content.Info) error { blobs++; return nil })
	if blobs != 0 {
		t.Fatalf("%d blobs left", blobs)
	}
}

func TestSharedLayersSurviveDelete(t *testing.T) {
	ctx := context.Background()
	s := newService(t, t.TempDir(), "")
	base := []testimage.File{{Name: "base", Body: []byte("shared")}}
	a, _ := testimage.New([]string{"sh"}, base, []testimage.File{{Name: "a", Body: []byte("a")}})
	b, _ := testimage.New([]string{"sh"}, base, []testimage.File{{Name: "b", Body: []byte("b")}})
	load(t, s, a, "a:1")
	load(t, s, b, "b:1")
	if _, err := s.Delete(ctx, "a:1", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := viewFile(t, s, b.ID(), "base")
	if err != nil || string(got) != "shared" {
		t.Fatalf("shared layer lost: %q %v", got, err)
	}
	// noprune keeps the layers of a deleted image.
	if _, err := s.Delete(ctx, "b:1", DeleteOptions{NoPrune: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.sn.Stat(ctx, b.Layers[0].DiffID.String()); err != nil {
		t.Fatalf("noprune removed layers: %v", err)
	}
	rep, err := s.Prune(ctx, filters.NewArgs())
	if err != nil || rep.SpaceReclaimed == 0 {
		t.Fatalf("prune = %+v, %v", rep, err)
	}
	assertNoLayers(t, s)
}

func layerTar(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	return buf.Bytes()
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	s := newService(t, t.TempDir(), "")
	ref, _ := ParseReference("imported:v1")
	var out bytes.Buffer
	id, err := s.Import(ctx, bytes.NewReader(layerTar(t, map[string]string{"hello.txt": "hi"})), ImportOptions{
		Ref:     ref,
		Message: "from a tar",
		Changes: []string{`CMD ["/hello"]`, "ENV A=1 B=two", "LABEL team=core", "EXPOSE 80", "WORKDIR /srv", "USER nobody"},
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"status":"`+id+`"`) {
		t.Fatalf("import output = %s", out.String())
	}
	ins, err := s.Inspect(ctx, "imported:v1")
	if err != nil {
		t.Fatal(err)
	}
	c := ins.Config
	if ins.Comment != "from a tar" || c.Cmd[0] != "/hello" || c.Labels["team"] != "core" || c.WorkingDir != "/srv" || c.User != "nobody" ||
		strings.Join(c.Env, ",") != "A=1,B=two" || len(c.ExposedPorts) != 1 {
		t.Fatalf("inspect = %+v config %+v", ins, c)
	}
	got, err := viewFile(t, s, id, "hello.txt")
	if err != nil || string(got) != "hi" {
		t.Fatalf("imported file = %q %v", got, err)
	}
	h, _ := s.History(ctx, id)
	if len(h) != 1 || h[0].Comment != "from a tar" {
		t.Fatalf("history = %+v", h)
	}
	// Bad change and bad tar.
	if _, err := s.Import(ctx, bytes.NewReader(nil), ImportOptions{Changes: []string{"RUN x"}}, &out); !errdefs.IsInvalidParameter(err) {
		t.Fatalf("bad change: %v", err)
	}
	full := layerTar(t, map[string]string{"big": strings.Repeat("x", 10000)})
	if _, err := s.Import(ctx, bytes.NewReader(full[:3000]), ImportOptions{}, &out); !errdefs.IsInvalidParameter(err) {
		t.Fatalf("truncated tar: %v", err)
	}
	list, _ := s.List(ctx, ListOptions{Filters: filters.NewArgs()})
	if len(list) != 1 {
		t.Fatalf("failed imports left images: %+v", list)
	}
}

func TestListFilters(t *testing.T) {
	ctx := context.Background()
	s := newService(t, t.TempDir(), "")
	mk := func(name string, labels string) string {
		ref, _ := ParseReference(name)
		var opts ImportOptions
		opts.Ref = ref
		if labels != "" {
			opts.Changes = []string{"LABEL " + labels}
		}
		id, err := s.Import(ctx, bytes.NewReader(layerTar(t, map[string]string{name: name})), opts, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := mk("alpha:1", "tier=web")
	mid := mk("beta:1", "tier=db")
	last := mk("example.com/gamma:2", "")
	// A dangling image: retag beta:1 away from mid.
	s.Tag(ctx, last, "beta", "1")
	ids := func(f filters.Args) []string {
		t.Helper()
		list, err := s.List(ctx, ListOptions{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, im := range list {
			out = append(out, im.ID)
		}
		return out
	}
	eq := func(what string, got []string, want ...string) {
		t.Helper()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	eq("all", ids(filters.NewArgs()), last, mid, first)
	eq("dangling", ids(filters.NewArgs(filters.Arg("dangling", "true"))), mid)
	eq("not dangling", ids(filters.NewArgs(filters.Arg("dangling", "false"))), last, first)
	eq("label key", ids(filters.NewArgs(filters.Arg("label", "tier"))), mid, first)
	eq("label value", ids(filters.NewArgs(filters.Arg("label", "tier=web"))), first)
	eq("reference", ids(filters.NewArgs(filters.Arg("reference", "alpha"))), first)
	eq("reference glob", ids(filters.NewArgs(filters.Arg("reference", "example.com/*:2"))), last)
	eq("before", ids(filters.NewArgs(filters.Arg("before", "example.com/gamma:2"))), mid, first)
	eq("since", ids(filters.NewArgs(filters.Arg("since", "alpha:1"))), last, mid)
	if _, err := s.List(ctx, ListOptions{Filters: filters.NewArgs(filters.Arg("bogus", "1"))}); !errdefs.IsInvalidParameter(err) {
		t.Errorf("unknown filter: %v", err)
	}
	if _, err := s.List(ctx, ListOptions{Filters: filters.NewArgs(filters.Arg("before", "nosuch"))}); !errdefs.IsNotFound(err) {
		t.Errorf("before unknown image: %v", err)
	}
	rep, err := s.Prune(ctx, filters.NewArgs())
	if err != nil || len(rep.ImagesDeleted) == 0 || rep.ImagesDeleted[0].Deleted != mid {
		t.Fatalf("prune dangling = %+v, %v", rep, err)
	}
	eq("after prune", ids(filters.NewArgs()), last, first)
}

func TestInterruptedIngestCleanedAtStart(t *testing.T) {
	root := t.TempDir()
	s := newService(t, root, "")
	s.Close()
	// What a crash mid-pull leaves: a partial ingest file and a layer
	// snapshot being unpacked.
	os.WriteFile(filepath.Join(root, "content", "ingest", "ingest-123"), []byte("partial"), 0o600)
	sn, err := snapshots.NewOverlay(filepath.Join(root, "snapshots", "overlay"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Prepare(context.Background(), "extract-abc-123", ""); err != nil {
		t.Fatal(err)
	}
	sn.Close()
	s = newService(t, root, "overlay")
	ents, _ := os.ReadDir(filepath.Join(root, "content", "ingest"))
	if len(ents) != 0 {
		t.Fatalf("ingest not cleaned: %v", ents)
	}
	if _, err := s.sn.Stat(context.Background(), "extract-abc-123"); err == nil {
		t.Fatal("interrupted unpack snapshot survived restart")
	}
}

func TestDeleteDigestReference(t *testing.T) {
	ctx := context.Background()
	s := newService(t, t.TempDir(), "")
	img, _ := testimage.Synthetic("digestref", 1)
	load(t, s, img, "dg:1")
	rec, _, err := s.resolve(ctx, "dg:1")
	if err != nil {
		t.Fatal(err)
	}
	dref, err := ParseReference("dg@" + img.ManifestDigest.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.setTag(ctx, dref, rec); err != nil {
		t.Fatal(err)
	}
	ins, _ := s.Inspect(ctx, "dg:1")
	if len(ins.RepoDigests) != 1 || ins.RepoDigests[0] != "dg@"+img.ManifestDigest.String() {
		t.Fatalf("repo digests = %v", ins.RepoDigests)
	}
	// Removing the digest reference while a tag remains only untags it.
	resp, err := s.Delete(ctx, "dg@"+img.ManifestDigest.String(), DeleteOptions{})
	if err != nil || len(resp) != 1 || resp[0].Untagged != "dg@"+img.ManifestDigest.String() {
		t.Fatalf("delete digest ref = %+v, %v", resp, err)
	}
	if _, err := s.Inspect(ctx, img.ID()); err != nil {
		t.Fatalf("image removed with its digest reference: %v", err)
	}
	s.setTag(ctx, dref, rec)
	// Removing the last tag takes the digest reference and the image.
	resp, err = s.Delete(ctx, "dg:1", DeleteOptions{})
	if err != nil || len(resp) < 3 || resp[0].Untagged != "dg:1" || resp[1].Untagged != "dg@"+img.ManifestDigest.String() || resp[2].Deleted != img.ID() {
		t.Fatalf("delete last tag = %+v, %v", resp, err)
	}
}

// Whiteouts and opaque directories of upper layers hide lower content,
// whichever way the snapshotter stacks layers (overlay unpacks them in
// parallel and stacks them after; native copies and deletes).
func TestWhiteoutsAcrossLayers(t *testing.T) {
	for _, sn := range []string{"overlay", "native"} {
		t.Run(sn, func(t *testing.T) {
			ctx := context.Background()
			s := newService(t, t.TempDir(), sn)
			img, err := testimage.New([]string{"sh"},
				[]testimage.File{{Name: "a", Body: []byte("a")}, {Name: "d/", Dir: true}, {Name: "d/x", Body: []byte("x")}, {Name: "keep", Body: []byte("k")}},
				[]testimage.File{{Name: ".wh.a"}, {Name: "d/", Dir: true}, {Name: "d/.wh..wh..opq"}, {Name: "d/z", Body: []byte("z")}},
				[]testimage.File{{Name: "b", Body: []byte("b")}},
			)
			if err != nil {
				t.Fatal(err)
			}
			load(t, s, img, "wh:1")
			for name, want := range map[string]string{"keep": "k", "d/z": "z", "b": "b"} {
				if got, err := viewFile(t, s, img.ID(), name); err != nil || string(got) != want {
					t.Errorf("%s = %q, %v", name, got, err)
				}
			}
			for _, gone := range []string{"a", "d/x"} {
				if _, err := viewFile(t, s, img.ID(), gone); !os.IsNotExist(err) {
					t.Errorf("%s visible through its whiteout: %v", gone, err)
				}
			}
			var left []string
			s.sn.Walk(ctx, func(_ context.Context, i snapshots.Info) error {
				if i.Kind != snapshots.KindCommitted {
					left = append(left, i.Name)
				}
				return nil
			})
			if len(left) != 0 {
				t.Fatalf("uncommitted snapshots left: %v", left)
			}
		})
	}
}

// Loading the same image from several clients at once gives one image and
// one snapshot per layer, and no leftovers.
func TestConcurrentLoadsOfOneImage(t *testing.T) {
	ctx := context.Background()
	s := newService(t, t.TempDir(), "")
	img, _ := testimage.Synthetic("concurrent", 4)
	var tarball bytes.Buffer
	img.WriteDockerSave(&tarball, "conc:1")
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() { errs <- s.Load(ctx, bytes.NewReader(tarball.Bytes()), true, io.Discard) }()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	s.sn.Walk(ctx, func(_ context.Context, i snapshots.Info) error {
		names = append(names, i.Name+"/"+i.Kind.String())
		return nil
	})
	if len(names) != 4 {
		t.Fatalf("snapshots = %v, want the 4 layers once", names)
	}
	for _, c := range ChainIDs([]digest.Digest{img.Layers[0].DiffID, img.Layers[1].DiffID, img.Layers[2].DiffID, img.Layers[3].DiffID}) {
		if info, err := s.sn.Stat(ctx, c.String()); err != nil || info.Kind != snapshots.KindCommitted {
			t.Fatalf("chain %s: %+v %v", c, info, err)
		}
	}
	got, err := viewFile(t, s, img.ID(), "layer3/concurrent")
	if err != nil || string(got) != "concurrent layer 3\n" {
		t.Fatalf("content = %q %v", got, err)
	}
	ents, _ := os.ReadDir(filepath.Join(s.root, "content", "ingest"))
	if len(ents) != 0 {
		t.Fatalf("ingest left: %v", ents)
	}
}
