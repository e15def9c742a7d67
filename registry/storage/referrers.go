package storage

import (
	"context"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Referrers returns descriptors of the repository's manifests whose subject
// is d, filtered to artifactType when it is not empty. The repository's
// revisions are scanned; what is learnt of each manifest is cached, so a scan
// reads each manifest once per process.
func (r *Repository) Referrers(ctx context.Context, d digest.Digest, artifactType string) ([]v1.Descriptor, error) {
	revs, err := r.revisionDirs(ctx)
	if err != nil {
		return nil, err
	}
	out := []v1.Descriptor{}
	for _, md := range revs {
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
	return out, nil
}
