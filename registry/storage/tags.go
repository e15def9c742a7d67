package storage

import (
	"context"
	"path"
	"sort"

	"github.com/opencontainers/go-digest"
)

// Tag points tag at manifest d, keeping the history distribution keeps
// (tags/<tag>/index).
func (r *Repository) Tag(ctx context.Context, tag string, d digest.Digest) error {
	if err := r.reg.writeLink(ctx, tagCurrentLinkPath(r.name, tag), d); err != nil {
		return err
	}
	return r.reg.writeLink(ctx, tagIndexLinkPath(r.name, tag, d), d)
}

// Untag removes tag; the manifest stays.
func (r *Repository) Untag(ctx context.Context, tag string) error {
	err := r.reg.driver.Delete(ctx, tagPath(r.name, tag))
	if isNotFound(err) {
		return ErrTagUnknown
	}
	return err
}

// Tags returns the repository's tags in lexical order. A repository that does
// not exist gives ErrNameUnknown; one without tags an empty list.
func (r *Repository) Tags(ctx context.Context) ([]string, error) {
	entries, err := r.reg.driver.List(ctx, tagsPath(r.name))
	if isNotFound(err) {
		if ok, err := r.Exists(ctx); err != nil || !ok {
			if err == nil {
				err = ErrNameUnknown
			}
			return nil, err
		}
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	tags := make([]string, 0, len(entries))
	for _, e := range entries {
		tags = append(tags, path.Base(e))
	}
	sort.Strings(tags)
	return tags, nil
}
