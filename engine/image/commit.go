package image

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/archive"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/reference"
	"github.com/wharf-project/wharf/engine/snapshots"
)

// imageConfig is an image config as Docker writes it: the OCI config plus
// Docker's extra fields.
type imageConfig struct {
	dockerspec.DockerOCIImage
	Comment       string `json:"comment,omitempty"`
	DockerVersion string `json:"docker_version,omitempty"`
	Parent        string `json:"parent,omitempty"`
	Container     string `json:"container,omitempty"`
}

func parseConfig(b []byte) (*imageConfig, error) {
	var c imageConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid image config: %w", err))
	}
	if c.RootFS.Type != "" && c.RootFS.Type != "layers" {
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid image config: rootfs type %q", c.RootFS.Type))
	}
	return &c, nil
}

func (s *Service) config(ctx context.Context, id digest.Digest) (*imageConfig, error) {
	b, err := s.cs.ReadBlob(ctx, id)
	if err != nil {
		return nil, errdefs.System(fmt.Errorf("image %s: config: %w", id, err))
	}
	return parseConfig(b)
}

// storeNew stores an image this daemon made (commit, import): its config
// and a manifest go to the content store, the image is recorded over
// layers (already there), and tagged ref when ref is not nil.
func (s *Service) storeNew(ctx context.Context, cfg any, layers []ocispec.Descriptor, ref reference.Named) (Record, error) {
	cb, err := json.Marshal(cfg)
	if err != nil {
		return Record{}, err
	}
	ci, err := s.cs.WriteBlob(ctx, bytesReader(cb), "", int64(len(cb)))
	if err != nil {
		return Record{}, errdefs.System(err)
	}
	md, err := s.writeManifest(ctx, ci.Digest, layers)
	if err != nil {
		return Record{}, err
	}
	rec, err := s.commitImage(ctx, md, ci.Digest, layers, "")
	if err != nil {
		return Record{}, err
	}
	if ref != nil {
		if err := s.setTag(ctx, ref, rec); err != nil {
			return Record{}, err
		}
	}
	return rec, nil
}

// commitImage records an image whose manifest, config and layer blobs are all
// in the content store: it unpacks the layers (skipping those already
// unpacked) and only then writes the record, so a failure leaves no record.
func (s *Service) commitImage(ctx context.Context, manifest ocispec.Descriptor, configDigest digest.Digest, layers []ocispec.Descriptor, source string) (Record, error) {
	cfg, err := s.config(ctx, configDigest)
	if err != nil {
		return Record{}, err
	}
	if len(cfg.RootFS.DiffIDs) != len(layers) {
		return Record{}, errdefs.InvalidParameter(fmt.Errorf("image %s: config lists %d layers, manifest %d", configDigest, len(cfg.RootFS.DiffIDs), len(layers)))
	}
	u := s.newUnpacker(ctx, cfg.RootFS.DiffIDs)
	for i, l := range layers {
		if err := u.add(i, l); err != nil {
			u.wait(true)
			return Record{}, err
		}
	}
	if err := u.wait(false); err != nil {
		return Record{}, err
	}
	rec := Record{ID: configDigest, Manifest: manifest, Layers: layers, Created: time.Now().UTC(), Source: source}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, err := s.db.get(configDigest); err == nil {
		rec.Created, rec.TagTime = old.Created, old.TagTime
		if rec.Source == "" {
			rec.Source = old.Source
		}
	}
	if err := s.db.put(rec); err != nil {
		return Record{}, errdefs.System(err)
	}
	return rec, nil
}

// chainOf returns the chain ID of layer i given its parent's chain ID.
func chainOf(parent, diffID digest.Digest) digest.Digest {
	if parent == "" {
		return diffID
	}
	return digest.FromString(parent.String() + " " + diffID.String())
}

// unpackLayer makes sure the snapshot for parent+layer exists, applying the
// layer blob from the content store if not, and returns its chain ID. The
// layer's uncompressed digest must equal diffID.
func (s *Service) unpackLayer(ctx context.Context, parent digest.Digest, layer ocispec.Descriptor, diffID digest.Digest) (digest.Digest, error) {
	chain := chainOf(parent, diffID)
	if info, err := s.sn.Stat(ctx, chain.String()); err == nil && info.Kind == snapshots.KindCommitted {
		return chain, nil
	}
	key := "extract-" + randomHex() + "-" + chain.Encoded()
	ms, err := s.sn.Prepare(ctx, key, parent.String())
	if err != nil {
		return "", errdefs.System(fmt.Errorf("unpack %s: %w", layer.Digest, err))
	}
	committed := false
	defer func() {
		if !committed {
			s.sn.Remove(context.WithoutCancel(ctx), key)
		}
	}()
	got, size, err := s.applyBlob(ctx, ms, layer.Digest)
	if err != nil {
		return "", err
	}
	if got != diffID {
		return "", errdefs.InvalidParameter(fmt.Errorf("layer %s: uncompressed digest %s, config says %s", layer.Digest, got, diffID))
	}
	s.db.putLayerSize(chain.String(), size)
	if err := s.sn.Commit(ctx, chain.String(), key); err != nil {
		if errors.Is(err, snapshots.ErrAlreadyExists) {
			return chain, nil // unpacked concurrently by another pull; ours is dropped
		}
		return "", errdefs.System(err)
	}
	committed = true
	return chain, nil
}

// applyBlob applies a layer blob to the tree of mounts and returns the
// digest of the uncompressed tar and the size of its files.
func (s *Service) applyBlob(ctx context.Context, ms []snapshots.Mount, blob digest.Digest) (digest.Digest, int64, error) {
	dir, overlayForm, direct := snapshots.UpperDir(ms)
	if !direct {
		tmp, err := os.MkdirTemp(s.root, "mount-")
		if err != nil {
			return "", 0, errdefs.System(err)
		}
		defer os.Remove(tmp)
		if err := snapshots.MountAll(ms, tmp); err != nil {
			return "", 0, errdefs.System(err)
		}
		defer snapshots.UnmountAll(tmp)
		dir = tmp
	}
	wf := archive.WhiteoutDelete
	if overlayForm {
		wf = archive.WhiteoutOverlay
	}
	return s.applyDir(ctx, dir, wf, blob)
}

// applyDir applies a layer blob from the content store to dir.
func (s *Service) applyDir(ctx context.Context, dir string, wf archive.WhiteoutFormat, blob digest.Digest) (digest.Digest, int64, error) {
	f, err := s.cs.Open(ctx, blob)
	if err != nil {
		return "", 0, errdefs.System(err)
	}
	defer f.Close()
	dr, err := archive.DecompressStream(f)
	if err != nil {
		return "", 0, errdefs.InvalidParameter(fmt.Errorf("layer %s: %w", blob, err))
	}
	defer dr.Close()
	dg := digest.Canonical.Digester()
	size, err := archive.Apply(ctx, dir, io.TeeReader(dr, dg.Hash()), archive.ApplyOptions{Whiteouts: wf})
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, ctx.Err()
		}
		return "", 0, errdefs.InvalidParameter(fmt.Errorf("layer %s: %w", blob, err))
	}
	return dg.Digest(), size, nil
}

func randomHex() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
