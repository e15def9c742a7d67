package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/events"
	"github.com/wharf-project/wharf/engine/reference"
)

// Save is GET /images/get: it writes names' images as one tar in the form
// `docker save` (25+) writes and every `docker load` reads:
//
//	blobs/sha256/<hex>   config, manifests and layer blobs, byte for byte as stored
//	index.json           OCI index, one entry per image and name
//	manifest.json        docker's list of {Config, RepoTags, Layers}
//	oci-layout
//
// A name that is a reference is saved with that tag; an ID without tags.
// Every name is resolved before the first byte is written, so an unknown
// name is a 404, not a broken tar.
func (s *Service) Save(ctx context.Context, names []string, w io.Writer) error {
	type item struct {
		rec  Record
		tags []reference.Named
	}
	var items []item
	byID := map[digest.Digest]int{}
	for _, n := range names {
		rec, ref, err := s.resolve(ctx, n)
		if err != nil {
			return err
		}
		i, ok := byID[rec.ID]
		if !ok {
			i = len(items)
			byID[rec.ID] = i
			items = append(items, item{rec: rec})
		}
		if ref != nil && !isDigestRef(ref) {
			items[i].tags = append(items[i].tags, ref)
		}
	}
	tw := tar.NewWriter(w)
	written := map[digest.Digest]bool{}
	mtime := time.Unix(0, 0)
	addDir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime})
	}
	addBlob := func(d digest.Digest) error {
		if written[d] {
			return nil
		}
		written[d] = true
		f, err := s.cs.Open(ctx, d)
		if err != nil {
			return errdefs.System(err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: "blobs/sha256/" + d.Encoded(), Typeflag: tar.TypeReg, Mode: 0o444, Size: st.Size(), ModTime: mtime}); err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		return err
	}
	addFile := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o444, Size: int64(len(b)), ModTime: mtime}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	if err := addDir("blobs/"); err != nil {
		return err
	}
	if err := addDir("blobs/sha256/"); err != nil {
		return err
	}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	idx.SchemaVersion = 2
	var mj []saveManifest
	for _, it := range items {
		for _, d := range append([]digest.Digest{it.rec.ID, it.rec.Manifest.Digest}, layerDigests(it.rec)...) {
			if err := addBlob(d); err != nil {
				return err
			}
		}
		sm := saveManifest{Config: "blobs/sha256/" + it.rec.ID.Encoded(), RepoTags: []string{}}
		for _, l := range it.rec.Layers {
			sm.Layers = append(sm.Layers, "blobs/sha256/"+l.Digest.Encoded())
		}
		desc := it.rec.Manifest
		if len(it.tags) == 0 {
			idx.Manifests = append(idx.Manifests, desc)
		}
		for _, t := range it.tags {
			sm.RepoTags = append(sm.RepoTags, Familiar(t))
			d := desc
			d.Annotations = map[string]string{"io.containerd.image.name": t.String()}
			if tg, ok := t.(reference.Tagged); ok {
				d.Annotations[ocispec.AnnotationRefName] = tg.Tag()
			}
			idx.Manifests = append(idx.Manifests, d)
		}
		mj = append(mj, sm)
	}
	ib, _ := json.Marshal(idx)
	mb, _ := json.Marshal(mj)
	for _, f := range []struct {
		name string
		b    []byte
	}{{"index.json", ib}, {"manifest.json", mb}, {"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)}} {
		if err := addFile(f.name, f.b); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	for _, it := range items {
		s.event(ctx, events.ActionSave, it.rec.ID.String(), map[string]string{"name": it.rec.ID.String()})
	}
	return nil
}

func layerDigests(r Record) []digest.Digest {
	out := make([]digest.Digest, len(r.Layers))
	for i, l := range r.Layers {
		out[i] = l.Digest
	}
	return out
}
