package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Manifest media types the registry knows how to check.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerSchema1      = "application/vnd.docker.distribution.manifest.v1+json"
	MediaTypeDockerSchema1JWS   = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// MaxManifestSize is the largest manifest accepted, as in distribution.
const MaxManifestSize = 4 << 20

// Manifest is a stored manifest.
type Manifest struct {
	Digest    digest.Digest
	MediaType string
	Content   []byte
	Subject   *v1.Descriptor
}

// manifestInfo is what the registry needs to know of a manifest without
// reading it again: immutable, so cached by digest.
type manifestInfo struct {
	mediaType    string
	size         int64
	artifactType string
	subject      *v1.Descriptor
	annotations  map[string]string
	platforms    []childPlatform // for indexes: children with their platform
}

type childPlatform struct {
	digest    digest.Digest
	mediaType string
	platform  *v1.Platform
}

// rawManifest covers the fields of every manifest kind the registry reads.
type rawManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *v1.Descriptor    `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Manifests     []v1.Descriptor   `json:"manifests"`
	Subject       *v1.Descriptor    `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

func isIndex(mediaType string) bool {
	return mediaType == v1.MediaTypeImageIndex || mediaType == MediaTypeDockerManifestList
}

// parseManifest reads content, working out its media type from the body and
// from contentType (the request's Content-Type).
func parseManifest(content []byte, contentType string) (*rawManifest, *manifestInfo, error) {
	var m rawManifest
	if err := json.Unmarshal(content, &m); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrManifestInvalid, err)
	}
	mt := m.MediaType
	switch {
	case mt != "" && contentType != "" && knownManifestType(contentType) && contentType != mt:
		return nil, nil, fmt.Errorf("%w: mediaType %q does not match Content-Type %q", ErrManifestInvalid, mt, contentType)
	case mt == "" && knownManifestType(contentType):
		mt = contentType
	case mt == "" && m.Manifests != nil:
		mt = v1.MediaTypeImageIndex
	case mt == "":
		mt = v1.MediaTypeImageManifest
	}
	info := &manifestInfo{mediaType: mt, size: int64(len(content)), artifactType: m.ArtifactType,
		subject: m.Subject, annotations: m.Annotations}
	switch mt {
	case v1.MediaTypeImageManifest, MediaTypeDockerManifest:
		if m.SchemaVersion != 2 {
			return nil, nil, fmt.Errorf("%w: schemaVersion must be 2", ErrManifestInvalid)
		}
		if m.Config == nil || m.Config.Digest.Validate() != nil {
			return nil, nil, fmt.Errorf("%w: config descriptor missing or invalid", ErrManifestInvalid)
		}
		if info.artifactType == "" {
			info.artifactType = m.Config.MediaType
		}
		for _, l := range m.Layers {
			if l.Digest.Validate() != nil {
				return nil, nil, fmt.Errorf("%w: layer digest %q", ErrManifestInvalid, l.Digest)
			}
		}
	case v1.MediaTypeImageIndex, MediaTypeDockerManifestList:
		if m.SchemaVersion != 2 {
			return nil, nil, fmt.Errorf("%w: schemaVersion must be 2", ErrManifestInvalid)
		}
		for _, c := range m.Manifests {
			if c.Digest.Validate() != nil {
				return nil, nil, fmt.Errorf("%w: manifest digest %q", ErrManifestInvalid, c.Digest)
			}
			info.platforms = append(info.platforms, childPlatform{c.Digest, c.MediaType, c.Platform})
		}
	case MediaTypeDockerSchema1, MediaTypeDockerSchema1JWS:
		return nil, nil, fmt.Errorf("%w: schema 1 manifests are not supported", ErrManifestInvalid)
	default:
		return nil, nil, fmt.Errorf("%w: unknown media type %q", ErrManifestInvalid, mt)
	}
	if m.Subject != nil && m.Subject.Digest.Validate() != nil {
		return nil, nil, fmt.Errorf("%w: subject digest %q", ErrManifestInvalid, m.Subject.Digest)
	}
	return &m, info, nil
}

func knownManifestType(mt string) bool {
	switch mt {
	case v1.MediaTypeImageManifest, v1.MediaTypeImageIndex, MediaTypeDockerManifest, MediaTypeDockerManifestList,
		MediaTypeDockerSchema1, MediaTypeDockerSchema1JWS:
		return true
	}
	return false
}

// PutManifest checks and stores a manifest under reference (a tag or the
// manifest's own digest). Every blob and child manifest it names must already
// be in the repository; the subject need not be.
func (r *Repository) PutManifest(ctx context.Context, reference, contentType string, content []byte) (*Manifest, error) {
	m, info, err := parseManifest(content, contentType)
	if err != nil {
		return nil, err
	}
	d := digest.FromBytes(content)
	if ref, err := digest.Parse(reference); err == nil {
		if ref.Algorithm() != digest.SHA256 {
			d = ref.Algorithm().FromBytes(content)
		}
		if ref != d {
			return nil, fmt.Errorf("%w: manifest digest is %s, not %s", ErrDigestMismatch, d, ref)
		}
	}
	if err := r.checkReferences(ctx, m); err != nil {
		return nil, err
	}
	// The manifest blob, its revision link and the tag links are written at
	// once, each durable on its own: a link whose manifest is not stored yet
	// reads as an unknown manifest, so no order among them is needed.
	reg := r.reg
	writes := []func() error{
		func() error {
			if _, err := reg.blobSize(ctx, d); !errors.Is(err, ErrBlobUnknown) {
				return err
			}
			if err := reg.driver.PutContent(ctx, blobDataPath(d), content); err != nil {
				return fmt.Errorf("store manifest: %w", err)
			}
			return nil
		},
		func() error { return reg.writeLink(ctx, revisionLinkPath(r.name, d), d) },
	}
	if _, err := digest.Parse(reference); err != nil {
		writes = append(writes,
			func() error { return reg.writeLink(ctx, tagCurrentLinkPath(r.name, reference), d) },
			func() error { return reg.writeLink(ctx, tagIndexLinkPath(r.name, reference, d), d) })
	}
	if err := parallel(writes); err != nil {
		return nil, err
	}
	reg.sizes.put(d, info.size)
	reg.manifests.put(d, info)
	reg.linked.put(revisionKey(r.name, d), struct{}{})
	return &Manifest{Digest: d, MediaType: info.mediaType, Content: content, Subject: m.Subject}, nil
}

func (r *Repository) checkReferences(ctx context.Context, m *rawManifest) error {
	check := func(d digest.Digest, stat func(context.Context, digest.Digest) (int64, error)) error {
		if _, err := stat(ctx, d); errors.Is(err, ErrBlobUnknown) || errors.Is(err, ErrManifestUnknown) {
			return ManifestBlobUnknownError{Digest: d}
		} else if err != nil {
			return err
		}
		return nil
	}
	if m.Config != nil {
		if err := check(m.Config.Digest, r.StatBlob); err != nil {
			return err
		}
	}
	for _, l := range m.Layers {
		if len(l.URLs) > 0 {
			continue // a foreign layer, fetched from its URLs
		}
		if err := check(l.Digest, r.StatBlob); err != nil {
			return err
		}
	}
	for _, c := range m.Manifests {
		if err := check(c.Digest, r.statRevision); err != nil {
			return err
		}
	}
	return nil
}

// statRevision returns the size of manifest d if the repository holds it.
func (r *Repository) statRevision(ctx context.Context, d digest.Digest) (int64, error) {
	ok, err := r.reg.hasLink(ctx, revisionKey(r.name, d), revisionLinkPath(r.name, d))
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrManifestUnknown
	}
	size, err := r.reg.blobSize(ctx, d)
	if errors.Is(err, ErrBlobUnknown) {
		return 0, ErrManifestUnknown
	}
	return size, err
}

// Resolve turns a reference (tag or digest) into the digest of a manifest the
// repository holds.
func (r *Repository) Resolve(ctx context.Context, reference string) (digest.Digest, error) {
	if d, err := digest.Parse(reference); err == nil {
		if _, err := r.statRevision(ctx, d); err != nil {
			return "", err
		}
		return d, nil
	}
	d, err := r.reg.readLink(ctx, tagCurrentLinkPath(r.name, reference))
	if isNotFound(err) {
		return "", ErrManifestUnknown
	}
	return d, err
}

// ManifestInfo returns the media type, size and subject of manifest d,
// reading it only the first time.
func (r *Repository) manifestInfo(ctx context.Context, d digest.Digest) (*manifestInfo, error) {
	if info, ok := r.reg.manifests.get(d); ok {
		return info, nil
	}
	m, err := r.readManifest(ctx, d)
	if err != nil {
		return nil, err
	}
	_, info, err := parseManifest(m, "")
	if err != nil {
		return nil, err
	}
	r.reg.manifests.put(d, info)
	return info, nil
}

func (r *Repository) readManifest(ctx context.Context, d digest.Digest) ([]byte, error) {
	b, err := r.reg.driver.GetContent(ctx, blobDataPath(d))
	if isNotFound(err) {
		return nil, ErrManifestUnknown
	}
	return b, err
}

// StatManifest returns what a HEAD needs: digest, media type and size.
func (r *Repository) StatManifest(ctx context.Context, reference string) (digest.Digest, string, int64, error) {
	d, err := r.Resolve(ctx, reference)
	if err != nil {
		return "", "", 0, err
	}
	info, err := r.manifestInfo(ctx, d)
	if err != nil {
		return "", "", 0, err
	}
	return d, info.mediaType, info.size, nil
}

// GetManifest returns the manifest reference names.
func (r *Repository) GetManifest(ctx context.Context, reference string) (*Manifest, error) {
	d, err := r.Resolve(ctx, reference)
	if err != nil {
		return nil, err
	}
	content, err := r.readManifest(ctx, d)
	if err != nil {
		return nil, err
	}
	info, err := r.manifestInfo(ctx, d)
	if err != nil {
		return nil, err
	}
	return &Manifest{Digest: d, MediaType: info.mediaType, Content: content, Subject: info.subject}, nil
}

// PlatformChild returns the child of index d for os/arch, for clients that
// do not accept indexes (distribution serves them linux/amd64).
func (r *Repository) PlatformChild(ctx context.Context, d digest.Digest, os, arch string) (digest.Digest, bool) {
	info, err := r.manifestInfo(ctx, d)
	if err != nil {
		return "", false
	}
	for _, c := range info.platforms {
		if c.platform != nil && c.platform.OS == os && c.platform.Architecture == arch {
			return c.digest, true
		}
	}
	return "", false
}

// DeleteManifest removes manifest d from the repository, with every tag that
// points at it.
func (r *Repository) DeleteManifest(ctx context.Context, d digest.Digest) error {
	if _, err := r.statRevision(ctx, d); err != nil {
		return err
	}
	tags, err := r.Tags(ctx)
	if err != nil && !errors.Is(err, ErrNameUnknown) {
		return err
	}
	for _, t := range tags {
		if cur, err := r.reg.readLink(ctx, tagCurrentLinkPath(r.name, t)); err == nil && cur == d {
			if err := r.Untag(ctx, t); err != nil && !errors.Is(err, ErrTagUnknown) {
				return err
			}
		}
	}
	r.reg.linked.remove(revisionKey(r.name, d))
	p := revisionLinkPath(r.name, d)
	if err := r.reg.driver.Delete(ctx, p[:len(p)-len("/link")]); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// parallel runs fs concurrently and returns the first error.
func parallel(fs []func() error) error {
	errs := make(chan error, len(fs))
	for _, f := range fs[1:] {
		go func() { errs <- f() }()
	}
	errs <- fs[0]()
	var first error
	for range fs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
