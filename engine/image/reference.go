package image

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/reference"
)

// ParseReference normalises a name the way the docker CLI does: a missing
// registry is docker.io, a missing namespace on docker.io is library/, and a
// name with neither tag nor digest gets :latest.
//
//	busybox            -> docker.io/library/busybox:latest
//	localhost:5000/a/b -> localhost:5000/a/b:latest
//	busybox@sha256:... -> docker.io/library/busybox@sha256:...
//
// A malformed name is an InvalidParameter error.
func ParseReference(name string) (reference.Named, error) {
	ref, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return nil, errdefs.InvalidParameter(err) // "invalid reference format: ...", as dockerd says
	}
	return reference.TagNameOnly(ref), nil
}

// WithTag parses repo and adds tag (default "latest"). repo must not carry a
// tag or digest of its own when tag is set.
func WithTag(repo, tag string) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	if tag == "" {
		return reference.TagNameOnly(named), nil
	}
	if _, isTagged := named.(reference.Tagged); isTagged {
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid reference format: %s already has a tag", repo))
	}
	if strings.HasPrefix(tag, "sha256:") {
		d, err := digest.Parse(tag)
		if err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
		return reference.WithDigest(reference.TrimNamed(named), d)
	}
	tagged, err := reference.WithTag(reference.TrimNamed(named), tag)
	if err != nil {
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid tag format: %s", tag))
	}
	return tagged, nil
}

// Familiar is the short form users see: docker.io/library/busybox:latest
// is busybox:latest.
func Familiar(ref reference.Named) string { return reference.FamiliarString(ref) }

// isDigestRef tells tags from digests among stored references.
func isDigestRef(ref reference.Named) bool {
	_, ok := ref.(reference.Canonical)
	return ok
}
