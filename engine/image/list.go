package image

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	imagetypes "github.com/docker/docker/api/types/image"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/reference"
)

// ListOptions are the query parameters of GET /images/json.
type ListOptions struct {
	All     bool // also intermediate images (wharf has none, so no effect)
	Digests bool // fill RepoDigests (always filled, as dockerd does today)
	Filters filters.Args
}

var listFilters = map[string]bool{"dangling": true, "label": true, "reference": true, "before": true, "since": true, "until": true}

// image is one record with what listing and filtering need.
type image struct {
	rec     Record
	cfg     *imageConfig
	tags    []string
	digests []string
	created time.Time
}

func (s *Service) images(ctx context.Context) ([]image, error) {
	recs, err := s.db.list()
	if err != nil {
		return nil, errdefs.System(err)
	}
	refs, err := s.db.refs()
	if err != nil {
		return nil, errdefs.System(err)
	}
	out := make([]image, 0, len(recs))
	for _, r := range recs {
		cfg, err := s.config(ctx, r.ID)
		if err != nil {
			s.log.Warn("image config unreadable", "id", r.ID, "error", err)
			continue
		}
		im := image{rec: r, cfg: cfg}
		im.tags, im.digests = refsOf(refs, r.ID)
		if cfg.Created != nil {
			im.created = *cfg.Created
		}
		out = append(out, im)
	}
	return out, nil
}

// size is the unpacked size of an image's layers.
func (s *Service) size(cfg *imageConfig) int64 {
	var n int64
	for _, c := range ChainIDs(cfg.RootFS.DiffIDs) {
		n += s.db.layerSize(c.String())
	}
	return n
}

// List is GET /images/json: images newest first, filtered as dockerd does.
func (s *Service) List(ctx context.Context, opts ListOptions) ([]imagetypes.Summary, error) {
	if err := opts.Filters.Validate(listFilters); err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	all, err := s.images(ctx)
	if err != nil {
		return nil, err
	}
	match, err := s.matcher(ctx, opts.Filters)
	if err != nil {
		return nil, err
	}
	// Newest first, at full precision; ties (same config time) by ID.
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].created.Equal(all[j].created) {
			return all[i].created.After(all[j].created)
		}
		return all[i].rec.ID < all[j].rec.ID
	})
	out := []imagetypes.Summary{}
	for _, im := range all {
		if !match(im) {
			continue
		}
		if pats := opts.Filters.Get("reference"); len(pats) > 0 {
			// As dockerd: only the references that matched are shown.
			im.tags, im.digests = keepMatching(pats, im.tags), keepMatching(pats, im.digests)
		}
		labels := im.cfg.Config.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		out = append(out, imagetypes.Summary{
			ID:          im.rec.ID.String(),
			RepoTags:    im.tags,
			RepoDigests: im.digests,
			Created:     im.created.Unix(),
			Size:        s.size(im.cfg),
			Labels:      labels,
			Containers:  -1,
			SharedSize:  -1,
		})
	}
	return out, nil
}

// matcher builds the predicate of the dangling, label, reference, before,
// since and until filters.
func (s *Service) matcher(ctx context.Context, f filters.Args) (func(image) bool, error) {
	dangling, danglingSet := false, f.Contains("dangling")
	if danglingSet {
		var err error
		if dangling, err = f.GetBoolOrDefault("dangling", false); err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
	}
	var before, since time.Time
	for key, t := range map[string]*time.Time{"before": &before, "since": &since} {
		for _, v := range f.Get(key) {
			rec, _, err := s.resolve(ctx, v)
			if err != nil {
				return nil, err
			}
			cfg, err := s.config(ctx, rec.ID)
			if err != nil {
				return nil, err
			}
			if cfg.Created != nil {
				*t = *cfg.Created
			}
		}
	}
	var until time.Time
	for _, v := range f.Get("until") {
		t, err := parseTimestamp(v)
		if err != nil {
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid until filter %q: %w", v, err))
		}
		until = t
	}
	refPatterns := f.Get("reference")
	for _, p := range refPatterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid reference filter %q: %w", p, err))
		}
	}
	return func(im image) bool {
		if danglingSet && (len(im.tags) == 0) != dangling {
			return false
		}
		if !f.MatchKVList("label", im.cfg.Config.Labels) {
			return false
		}
		if !before.IsZero() && !im.created.Before(before) {
			return false
		}
		if !since.IsZero() && !im.created.After(since) {
			return false
		}
		if !until.IsZero() && !im.created.Before(until) {
			return false
		}
		if len(refPatterns) > 0 && !matchesReference(refPatterns, im.tags, im.digests) {
			return false
		}
		return true
	}, nil
}

// matchesReference matches familiar names against patterns like dockerd:
// "busybox", "busybox:*", "*/app:1.*".
func matchesReference(patterns, tags, digests []string) bool {
	for _, p := range patterns {
		for _, r := range append(append([]string{}, tags...), digests...) {
			named, err := reference.ParseNormalizedNamed(r)
			if err != nil {
				continue
			}
			candidates := []string{reference.FamiliarName(named), reference.FamiliarString(named), named.Name(), named.String()}
			for _, c := range candidates {
				if ok, _ := path.Match(p, c); ok {
					return true
				}
			}
		}
	}
	return false
}

func keepMatching(patterns, refs []string) []string {
	out := []string{}
	for _, r := range refs {
		if matchesReference(patterns, []string{r}, nil) {
			out = append(out, r)
		}
	}
	return out
}

// parseTimestamp reads a unix time ("1700000000[.nnn]"), an RFC 3339 time
// or a duration ago ("10m").
func parseTimestamp(v string) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	secs, frac, _ := strings.Cut(v, ".")
	var sec, nsec int64
	if _, err := fmt.Sscan(secs, &sec); err != nil {
		return time.Time{}, err
	}
	if frac != "" {
		frac = (frac + "000000000")[:9]
		fmt.Sscan(frac, &nsec)
	}
	return time.Unix(sec, nsec), nil
}
