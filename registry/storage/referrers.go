package storage

import (
	"context"
	"path"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Referrers returns descriptors of the repository's manifests whose subject
// is d, filtered to artifactType when it is not empty. The repository's
// revisions are scanned; what is learnt of each manifest is cached, so a scan
// reads each manifest once per process.
func (r *Repository) Referrers(ctx context.Context, d digest.Digest, artifactType string) ([]v1.Descriptor, error) {
	out := []v1.Descriptor{}
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		entries, err := r.reg.driver.List(ctx, revisionsPath(r.name, alg))
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			md := digest.NewDigestFromEncoded(alg, path.Base(e))
			if md.Validate() != nil {
				continue
			}
			if ok, _ := r.reg.hasLink(ctx, revisionKey(r.name, md), revisionLinkPath(r.name, md)); !ok {
				continue // a revision dir left without its link
			}
			info, err := r.manifestInfo(ctx, md)
			if err != nil {
				continue // not a manifest we can read; not a referrer
			}
			if info.subject == nil || info.subject.Digest != d {
				continue
			}
			if artifactType != "" && info.artifactType != artifactType {
				continue
			}
			out = append(out, v1.Descriptor{MediaType: info.mediaType, Digest: md, Size: info.size,
				ArtifactType: info.artifactType, Annotations: info.annotations})
		}
	}
	return out, nil
}
