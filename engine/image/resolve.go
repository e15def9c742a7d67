package image

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/ident"
	"github.com/wharf-project/wharf/engine/reference"
)

// errNoSuchImage is dockerd's 404 for an unknown image.
func errNoSuchImage(name string) error {
	return errdefs.NotFound(fmt.Errorf("No such image: %s", name))
}

// resolve finds the image a user's name means, trying in dockerd's order:
// a full ID ("sha256:<hex>"), a reference (name:tag or name@digest), a
// unique prefix of an ID. ref is the normalised reference when the name was
// one that is stored.
func (s *Service) resolve(ctx context.Context, name string) (Record, reference.Named, error) {
	if name == "" {
		return Record{}, nil, errdefs.InvalidParameter(fmt.Errorf("image name is empty"))
	}
	if d, err := digest.Parse(name); err == nil {
		if rec, err := s.db.get(d); err == nil {
			return rec, nil, nil
		}
		return Record{}, nil, errNoSuchImage(name)
	}
	ref, perr := reference.ParseNormalizedNamed(name)
	if perr == nil {
		ref = reference.TagNameOnly(ref)
		if id, ok := s.db.ref(ref.String()); ok {
			rec, err := s.db.get(id)
			if err == nil {
				return rec, ref, nil
			}
		}
	}
	if ident.IsIDPrefix(name) {
		recs, err := s.db.list()
		if err != nil {
			return Record{}, nil, errdefs.System(err)
		}
		var found []Record
		for _, r := range recs {
			if strings.HasPrefix(r.ID.Encoded(), name) {
				found = append(found, r)
			}
		}
		if len(found) == 1 {
			return found[0], nil, nil
		}
		if len(found) > 1 {
			return Record{}, nil, errdefs.InvalidParameter(fmt.Errorf("multiple IDs found with provided prefix: %s", name))
		}
	}
	if perr != nil {
		return Record{}, nil, errdefs.InvalidParameter(fmt.Errorf("invalid reference format: %s", name))
	}
	return Record{}, nil, errNoSuchImage(name)
}

// refsOf returns an image's tags and repo digests in familiar form, sorted.
func refsOf(all map[digest.Digest][]string, id digest.Digest) (tags, digests []string) {
	tags, digests = []string{}, []string{}
	for _, r := range all[id] {
		ref, err := reference.ParseNormalizedNamed(r)
		if err != nil {
			continue
		}
		if isDigestRef(ref) {
			digests = append(digests, Familiar(ref))
		} else {
			tags = append(tags, Familiar(ref))
		}
	}
	sort.Strings(tags)
	sort.Strings(digests)
	return tags, digests
}

// shortOf is the 12-character ID dockerd prints in messages.
func shortOf(id digest.Digest) string {
	e := id.Encoded()
	if len(e) > 12 {
		return e[:12]
	}
	return e
}
