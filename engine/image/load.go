package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/archive"
	"github.com/wharf-project/wharf/engine/distribution"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/events"
	"github.com/wharf-project/wharf/engine/reference"
)

// Limits on what a loaded tar may keep in memory: its small JSON files.
const (
	maxMetaFile  = 8 << 20  // one manifest.json, index.json, config...
	maxMetaTotal = 64 << 20 // all of them together
)

// saveManifest is one entry of a docker-save manifest.json.
type saveManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// loadTar is the content of an uploaded tar: blobs went to the content
// store (path -> digest), small files stayed in memory.
type loadTar struct {
	blobs map[string]digest.Digest
	files map[string][]byte
}

// Load is POST /images/load: it reads a `docker save` tar (manifest.json,
// in the legacy or the OCI-layout form) or a plain OCI image layout tar,
// stores and unpacks every image in it, tags them, and reports
// "Loaded image: name:tag" (or "Loaded image ID: sha256:...") lines. The
// whole tar is read before anything is recorded, so a bad tar changes
// nothing and its error is returned before any output is written.
func (s *Service) Load(ctx context.Context, r io.Reader, quiet bool, out io.Writer) error {
	done := s.beginIngest()
	defer done()
	lt, err := s.readLoadTar(ctx, r)
	if err != nil {
		return err
	}
	type loaded struct {
		rec  Record
		tags []reference.Named
	}
	var imgs []loaded
	if mj, ok := lt.files["manifest.json"]; ok {
		var ms []saveManifest
		if err := json.Unmarshal(mj, &ms); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid manifest.json: %w", err))
		}
		for _, m := range ms {
			rec, err := s.loadSaveEntry(ctx, lt, m)
			if err != nil {
				return err
			}
			l := loaded{rec: rec}
			for _, t := range m.RepoTags {
				ref, err := ParseReference(t)
				if err != nil {
					return err
				}
				l.tags = append(l.tags, ref)
			}
			imgs = append(imgs, l)
		}
	} else if ij, ok := lt.files["index.json"]; ok {
		var idx ocispec.Index
		if err := json.Unmarshal(ij, &idx); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid index.json: %w", err))
		}
		for _, d := range idx.Manifests {
			rec, err := s.loadOCIManifest(ctx, d)
			if err != nil {
				return err
			}
			l := loaded{rec: rec}
			if name := ociRefName(d.Annotations); name != "" {
				if ref, err := ParseReference(name); err == nil {
					l.tags = append(l.tags, ref)
				}
			}
			imgs = append(imgs, l)
		}
	} else {
		return errdefs.InvalidParameter(errors.New("invalid tar: neither manifest.json nor index.json found"))
	}
	p := distribution.NewProgress(out)
	for _, l := range imgs {
		if len(l.tags) == 0 {
			p.Send(distribution.Message{Stream: "Loaded image ID: " + l.rec.ID.String() + "\n"})
		}
		for _, t := range l.tags {
			if old, ok := s.db.ref(t.String()); ok && old != l.rec.ID && !quiet {
				p.Send(distribution.Message{Stream: fmt.Sprintf("The image %s already exists, renaming the old one with ID %s to empty string\n", Familiar(t), old)})
			}
			if err := s.setTag(ctx, t, l.rec); err != nil {
				return err
			}
			p.Send(distribution.Message{Stream: "Loaded image: " + Familiar(t) + "\n"})
		}
		s.event(ctx, events.ActionLoad, l.rec.ID.String(), map[string]string{"name": l.rec.ID.String()})
	}
	return nil
}

// ociRefName picks a usable full name from an index entry's annotations:
// containerd's image name, or a ref.name that is a whole reference.
func ociRefName(ann map[string]string) string {
	if n := ann["io.containerd.image.name"]; n != "" {
		return n
	}
	n := ann[ocispec.AnnotationRefName]
	if strings.ContainsAny(n, ":/") {
		return n
	}
	return ""
}

func (s *Service) readLoadTar(ctx context.Context, r io.Reader) (*loadTar, error) {
	lt := &loadTar{blobs: map[string]digest.Digest{}, files: map[string][]byte{}}
	tr := tar.NewReader(r)
	var total int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid tar: %w", err))
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
			continue
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		if dir, enc, ok := strings.Cut(name, "/"); ok && (dir == "blobs" || strings.HasSuffix(name, ".tar") || hdr.Size > maxMetaFile) {
			var expected digest.Digest
			if dir == "blobs" {
				alg, hex, _ := strings.Cut(enc, "/")
				expected = digest.NewDigestFromEncoded(digest.Algorithm(alg), hex)
				if expected.Validate() != nil {
					return nil, errdefs.InvalidParameter(fmt.Errorf("invalid tar: bad blob name %s", name))
				}
			}
			info, err := s.cs.WriteBlob(ctx, tr, expected, hdr.Size)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, errdefs.InvalidParameter(fmt.Errorf("invalid tar: %s: %w", name, err))
			}
			lt.blobs[name] = info.Digest
			continue
		}
		if hdr.Size > maxMetaFile || total+hdr.Size > maxMetaTotal {
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid tar: %s is too large (limit %d bytes)", name, maxMetaFile))
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid tar: %w", err))
		}
		total += int64(len(b))
		lt.files[name] = b
	}
	return lt, nil
}

// blobOf finds a file of the tar, as a digest in the content store (small
// files are stored now).
func (s *Service) blobOf(ctx context.Context, lt *loadTar, name string) (digest.Digest, error) {
	name = path.Clean(name)
	if d, ok := lt.blobs[name]; ok {
		return d, nil
	}
	b, ok := lt.files[name]
	if !ok {
		return "", errdefs.InvalidParameter(fmt.Errorf("invalid tar: %s not found", name))
	}
	info, err := s.cs.WriteBlob(ctx, bytes.NewReader(b), "", int64(len(b)))
	if err != nil {
		return "", errdefs.System(err)
	}
	lt.blobs[name] = info.Digest
	return info.Digest, nil
}

// loadSaveEntry records the image of one manifest.json entry, reusing the
// OCI manifest when the tar has one for the same config.
func (s *Service) loadSaveEntry(ctx context.Context, lt *loadTar, m saveManifest) (Record, error) {
	cfg, err := s.blobOf(ctx, lt, m.Config)
	if err != nil {
		return Record{}, err
	}
	layers := make([]ocispec.Descriptor, len(m.Layers))
	for i, l := range m.Layers {
		d, err := s.blobOf(ctx, lt, l)
		if err != nil {
			return Record{}, err
		}
		if layers[i], err = s.layerDescriptor(ctx, d); err != nil {
			return Record{}, err
		}
	}
	if ij, ok := lt.files["index.json"]; ok {
		var idx ocispec.Index
		if json.Unmarshal(ij, &idx) == nil {
			for _, d := range idx.Manifests {
				if mb, err := s.cs.ReadBlob(ctx, d.Digest); err == nil {
					var om ocispec.Manifest
					if json.Unmarshal(mb, &om) == nil && om.Config.Digest == cfg && len(om.Layers) == len(layers) {
						return s.commitImage(ctx, ocispec.Descriptor{MediaType: manifestType(mb, d.MediaType), Digest: d.Digest, Size: int64(len(mb))}, cfg, om.Layers, "")
					}
				}
			}
		}
	}
	md, err := s.writeManifest(ctx, cfg, layers)
	if err != nil {
		return Record{}, err
	}
	return s.commitImage(ctx, md, cfg, layers, "")
}

func manifestType(b []byte, fallback string) string {
	var m struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(b, &m) == nil && m.MediaType != "" {
		return m.MediaType
	}
	if fallback != "" {
		return fallback
	}
	return ocispec.MediaTypeImageManifest
}

// loadOCIManifest records the image an OCI layout's index entry names,
// picking this platform's manifest from a nested index.
func (s *Service) loadOCIManifest(ctx context.Context, d ocispec.Descriptor) (Record, error) {
	mb, err := s.cs.ReadBlob(ctx, d.Digest)
	if err != nil {
		return Record{}, errdefs.InvalidParameter(fmt.Errorf("invalid OCI layout: manifest %s missing", d.Digest))
	}
	var m struct {
		ocispec.Manifest
		Manifests []ocispec.Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(mb, &m); err != nil {
		return Record{}, errdefs.InvalidParameter(fmt.Errorf("invalid OCI layout: manifest %s: %w", d.Digest, err))
	}
	if len(m.Manifests) > 0 {
		for _, sub := range m.Manifests {
			if sub.Platform == nil || sub.Platform.OS == "linux" && sub.Platform.Architecture == hostArch() {
				return s.loadOCIManifest(ctx, sub)
			}
		}
		return Record{}, errdefs.NotFound(fmt.Errorf("no manifest for linux/%s in %s", hostArch(), d.Digest))
	}
	for _, l := range m.Layers {
		if !s.cs.Has(ctx, l.Digest) {
			return Record{}, errdefs.InvalidParameter(fmt.Errorf("invalid OCI layout: layer %s missing", l.Digest))
		}
	}
	return s.commitImage(ctx, ocispec.Descriptor{MediaType: manifestType(mb, d.MediaType), Digest: d.Digest, Size: int64(len(mb))}, m.Config.Digest, m.Layers, "")
}

// layerDescriptor describes a stored layer blob, its media type from its
// compression.
func (s *Service) layerDescriptor(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error) {
	f, err := s.cs.Open(ctx, d)
	if err != nil {
		return ocispec.Descriptor{}, errdefs.System(err)
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	st, err := f.Stat()
	if err != nil {
		return ocispec.Descriptor{}, errdefs.System(err)
	}
	mt := ocispec.MediaTypeImageLayer
	switch archive.DetectCompression(head[:n]) {
	case archive.Gzip:
		mt = ocispec.MediaTypeImageLayerGzip
	case archive.Zstd:
		mt = ocispec.MediaTypeImageLayerZstd
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: st.Size()}, nil
}

// writeManifest stores an OCI manifest for config and layers.
func (s *Service) writeManifest(ctx context.Context, cfg digest.Digest, layers []ocispec.Descriptor) (ocispec.Descriptor, error) {
	info, err := s.cs.Info(ctx, cfg)
	if err != nil {
		return ocispec.Descriptor{}, errdefs.System(err)
	}
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfg, Size: info.Size},
		Layers:    layers,
	}
	m.SchemaVersion = 2
	b, err := json.Marshal(m)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	mi, err := s.cs.WriteBlob(ctx, bytes.NewReader(b), "", int64(len(b)))
	if err != nil {
		return ocispec.Descriptor{}, errdefs.System(err)
	}
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: mi.Digest, Size: mi.Size}, nil
}
