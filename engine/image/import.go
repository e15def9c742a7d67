package image

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/archive"
	"github.com/wharf-project/wharf/engine/distribution"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/events"
	"github.com/wharf-project/wharf/engine/reference"
)

// ImportOptions are the parameters of POST /images/create?fromSrc=-.
type ImportOptions struct {
	Ref      reference.Named // tag to give the image; nil for none
	Changes  []string        // Dockerfile instructions: CMD, ENV, ...
	Message  string          // history comment
	Platform *ocispec.Platform
}

// Import makes a one-layer image from a filesystem tar (plain or
// compressed): the layer is stored gzip-compressed, the config gets the
// changes, and the image ID is written to out as {"status": "sha256:..."}.
func (s *Service) Import(ctx context.Context, src io.Reader, opts ImportOptions, out io.Writer) (string, error) {
	done := s.beginIngest()
	defer done()
	cfg := imageConfig{}
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	if opts.Platform != nil && opts.Platform.Architecture != "" {
		cfg.Architecture, cfg.Variant = opts.Platform.Architecture, opts.Platform.Variant
	}
	if err := applyChanges(&cfg.Config, opts.Changes); err != nil {
		return "", err
	}
	dr, err := archive.DecompressStream(src)
	if err != nil {
		return "", errdefs.InvalidParameter(err)
	}
	defer dr.Close()
	w, err := s.cs.Writer(ctx, "", -1)
	if err != nil {
		return "", errdefs.System(err)
	}
	defer w.Close()
	diff := digest.Canonical.Digester()
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if _, err := io.Copy(io.MultiWriter(zw, diff.Hash()), dr); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", errdefs.InvalidParameter(fmt.Errorf("import: %w", err))
	}
	if err := zw.Close(); err != nil {
		return "", errdefs.System(err)
	}
	info, err := w.Commit()
	if err != nil {
		return "", errdefs.System(err)
	}
	now := time.Now().UTC()
	msg := opts.Message
	cfg.Created = &now
	cfg.Comment = msg
	cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diff.Digest()}}
	cfg.History = []ocispec.History{{Created: &now, CreatedBy: "", Comment: msg}}
	layers := []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: info.Digest, Size: info.Size}}
	rec, err := s.storeNew(ctx, cfg, layers, opts.Ref)
	if err != nil {
		return "", err
	}
	distribution.NewProgress(out).Send(distribution.Message{Status: rec.ID.String()})
	s.event(ctx, events.ActionImport, rec.ID.String(), map[string]string{"name": rec.ID.String()})
	return rec.ID.String(), nil
}
