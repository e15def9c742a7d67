package image

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/distribution"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/events"
	"github.com/wharf-project/wharf/engine/reference"
)

// PullOptions are the parameters of POST /images/create?fromImage=.
type PullOptions struct {
	Platform *ocispec.Platform
	Auth     distribution.AuthConfig
}

// Pull fetches ref (normalised; tag default latest), unpacking layers while
// later ones download, records the image and tags it. Progress goes to out
// as dockerd's JSON messages. The image record is written last, so an
// interrupted pull leaves no image, only complete blobs and layers that a
// later pull reuses and prune removes.
func (s *Service) Pull(ctx context.Context, ref reference.Named, opts PullOptions, out io.Writer) error {
	p := distribution.NewProgress(out)
	done := s.beginIngest()
	defer done()
	var u *unpacker
	popts := distribution.PullOptions{Auth: opts.Auth, Progress: p, Store: s.cs}
	if opts.Platform != nil {
		popts.Platform = *opts.Platform
	}
	// Layers are unpacked as they arrive (in parallel where the snapshotter
	// allows), while later ones still download.
	popts.OnConfig = func(ctx context.Context, cfg digest.Digest) error {
		c, err := s.config(ctx, cfg)
		if err != nil {
			return err
		}
		u = s.newUnpacker(ctx, c.RootFS.DiffIDs)
		u.done = func(_ int, layer ocispec.Descriptor) { p.Status(distribution.ShortID(layer.Digest), "Pull complete") }
		return nil
	}
	popts.Unpack = func(_ context.Context, i int, layer ocispec.Descriptor) error {
		return u.add(i, layer)
	}
	res, err := s.registry.Pull(ctx, ref, popts)
	if u != nil {
		if werr := u.wait(err != nil); err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	existed := false
	if id, ok := s.db.ref(ref.String()); ok && id == res.Config {
		existed = true
	}
	rec, err := s.commitImage(ctx, res.Manifest, res.Config, res.Layers, reference.TrimNamed(ref).String())
	if err != nil {
		return err
	}
	s.db.addSources(reference.TrimNamed(ref).String(), append(layerDigests(rec), rec.ID)...)
	dref, err := reference.WithDigest(reference.TrimNamed(ref), res.Digest)
	if err == nil {
		s.setTag(ctx, dref, rec)
	}
	if _, ok := ref.(reference.Tagged); ok {
		if err := s.setTag(ctx, ref, rec); err != nil {
			return err
		}
	}
	p.Status("", "Digest: %s", res.Digest)
	if existed {
		p.Status("", "Status: Image is up to date for %s", Familiar(ref))
	} else {
		p.Status("", "Status: Downloaded newer image for %s", Familiar(ref))
	}
	s.event(ctx, events.ActionPull, Familiar(ref), map[string]string{"name": Familiar(ref)})
	return nil
}

// Push uploads the image named ref (tag default latest) to its registry.
func (s *Service) Push(ctx context.Context, ref reference.Named, auth distribution.AuthConfig, out io.Writer) error {
	tagged, ok := ref.(reference.NamedTagged)
	if !ok {
		return errdefs.InvalidParameter(fmt.Errorf("push needs a tag: %s", ref))
	}
	rec, _, err := s.resolve(ctx, ref.String())
	if err != nil {
		if errdefs.IsNotFound(err) {
			return errdefs.NotFound(fmt.Errorf("An image does not exist locally with the tag: %s", reference.FamiliarName(ref)))
		}
		return err
	}
	mb, err := s.cs.ReadBlob(ctx, rec.Manifest.Digest)
	if err != nil {
		return errdefs.System(err)
	}
	info, err := s.cs.Info(ctx, rec.ID)
	if err != nil {
		return errdefs.System(err)
	}
	cfgDesc := ocispec.Descriptor{MediaType: configMediaType(rec.Manifest.MediaType), Digest: rec.ID, Size: info.Size}
	p := distribution.NewProgress(out)
	res, err := s.registry.Push(ctx, tagged, distribution.PushImage{Manifest: rec.Manifest, ManifestBytes: mb, Config: cfgDesc, Layers: rec.Layers},
		distribution.PushOptions{Auth: auth, Progress: p, Store: s.cs, Sources: s.db.sources(append(layerDigests(rec), rec.ID)...)})
	if err != nil {
		return err
	}
	s.db.addSources(reference.TrimNamed(ref).String(), append(layerDigests(rec), rec.ID)...)
	if dref, err := reference.WithDigest(reference.TrimNamed(ref), digest.Digest(res.Digest)); err == nil {
		s.setTag(ctx, dref, rec)
	}
	s.event(ctx, events.ActionPush, Familiar(ref), map[string]string{"name": Familiar(ref)})
	return nil
}

func configMediaType(manifestType string) string {
	if manifestType == ocispec.MediaTypeImageManifest {
		return ocispec.MediaTypeImageConfig
	}
	return "application/vnd.docker.container.image.v1+json"
}
