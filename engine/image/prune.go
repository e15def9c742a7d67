package image

import (
	"context"

	"github.com/docker/docker/api/types/filters"
	imagetypes "github.com/docker/docker/api/types/image"

	"github.com/wharf-project/wharf/engine/errdefs"
)

var pruneFilters = map[string]bool{"dangling": true, "label": true, "label!": true, "until": true}

// Prune is POST /images/prune: it deletes dangling images (all unused
// images with dangling=false) that no container uses, then the layers and
// blobs nothing references any more.
func (s *Service) Prune(ctx context.Context, f filters.Args) (*imagetypes.PruneReport, error) {
	if err := f.Validate(pruneFilters); err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	danglingOnly := true
	if f.Contains("dangling") {
		v, err := f.GetBoolOrDefault("dangling", true)
		if err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
		danglingOnly = v
	}
	neg := f.Get("label!")
	f2 := f.Clone()
	f2.Del("dangling", "true")
	f2.Del("dangling", "false")
	for _, v := range neg {
		f2.Del("label!", v)
	}
	match, err := s.matcher(ctx, f2)
	if err != nil {
		return nil, err
	}
	all, err := s.images(ctx)
	if err != nil {
		return nil, err
	}
	report := &imagetypes.PruneReport{ImagesDeleted: []imagetypes.DeleteResponse{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, im := range all {
		if danglingOnly && len(im.tags) > 0 {
			continue
		}
		if !match(im) || (len(neg) > 0 && filters.NewArgs(labelArgs(neg)...).MatchKVList("label", im.cfg.Config.Labels)) {
			continue
		}
		if s.isInUse(im.rec.ID.String()) {
			continue
		}
		refs, _ := s.db.refs()
		for _, r := range refs[im.rec.ID] {
			if n, err := ParseReference(r); err == nil {
				report.ImagesDeleted = append(report.ImagesDeleted, imagetypes.DeleteResponse{Untagged: Familiar(n)})
			}
		}
		if err := s.db.delete(im.rec.ID); err != nil {
			return nil, errdefs.System(err)
		}
		report.ImagesDeleted = append(report.ImagesDeleted, imagetypes.DeleteResponse{Deleted: im.rec.ID.String()})
	}
	removed, freed, err := s.collectGarbage(ctx)
	if err != nil {
		return nil, errdefs.System(err)
	}
	for _, c := range removed {
		report.ImagesDeleted = append(report.ImagesDeleted, imagetypes.DeleteResponse{Deleted: c.String()})
	}
	report.SpaceReclaimed = uint64(freed)
	return report, nil
}

func labelArgs(vals []string) []filters.KeyValuePair {
	out := make([]filters.KeyValuePair, len(vals))
	for i, v := range vals {
		out[i] = filters.Arg("label", v)
	}
	return out
}
