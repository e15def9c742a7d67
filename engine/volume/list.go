package volume

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"

	eventtypes "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	volumetypes "github.com/docker/docker/api/types/volume"

	"github.com/wharf-project/wharf/engine/errdefs"
)

var (
	listFilters  = map[string]bool{"dangling": true, "name": true, "driver": true, "label": true}
	pruneFilters = map[string]bool{"label": true, "label!": true, "all": true}
)

// matcher turns filters into a predicate over a record and whether it is
// referenced; call with s.mu held when using it.
func matcher(f filters.Args, accepted map[string]bool) (func(r *record, referenced bool) bool, error) {
	if err := f.Validate(accepted); err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	var dangling *bool
	if f.Contains("dangling") {
		b, err := f.GetBoolOrDefault("dangling", false)
		if err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
		dangling = &b
	}
	drivers := f.Get("driver")
	return func(r *record, referenced bool) bool {
		if len(drivers) > 0 && !contains(drivers, r.Driver) {
			return false
		}
		if f.Contains("name") && !f.Match("name", r.Name) {
			return false
		}
		if !f.MatchKVList("label", r.Labels) {
			return false
		}
		if f.Contains("label!") && f.MatchKVList("label!", r.Labels) {
			return false
		}
		if dangling != nil && *dangling == referenced {
			return false
		}
		return true
	}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// List is GET /volumes: the volumes that pass the filters (dangling,
// driver, label, name), sorted by name.
func (s *Service) List(_ context.Context, f filters.Args) ([]*volumetypes.Volume, []string, error) {
	match, err := matcher(f, listFilters)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*volumetypes.Volume{}
	for _, r := range s.sorted() {
		if match(r, len(s.refs[r.Name]) > 0) {
			out = append(out, s.toAPI(r))
		}
	}
	return out, nil, nil
}

func (s *Service) sorted() []*record {
	recs := make([]*record, 0, len(s.vols))
	for _, r := range s.vols {
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Name < recs[j].Name })
	return recs
}

// Prune is POST /volumes/prune: it removes local volumes that no container
// references and that are not mounts of their own (no options). As dockerd
// since API 1.42, only anonymous volumes go unless the filter has all=true.
func (s *Service) Prune(ctx context.Context, f filters.Args) (*volumetypes.PruneReport, error) {
	all := f.Get("all")
	switch {
	case len(all) > 1:
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid filter 'all=%s': only one value is expected", all))
	case len(all) == 1:
		ok, err := strconv.ParseBool(all[0])
		if err != nil {
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid filter 'all': %w", err))
		}
		if !ok {
			f.Add("label", AnonymousLabel)
		}
	default:
		f.Add("label", AnonymousLabel)
	}
	match, err := matcher(f, pruneFilters)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pruning {
		return nil, errdefs.Conflict(errors.New("a prune operation is already running"))
	}
	rep := &volumetypes.PruneReport{VolumesDeleted: []string{}}
	for _, r := range s.sorted() {
		if r.Driver != DefaultDriver || len(r.Options) > 0 || len(s.refs[r.Name]) > 0 || !match(r, false) {
			continue
		}
		size := dirSize(s.dataPath(r.Name))
		if err := s.removeLocked(ctx, r, false); err != nil {
			s.log.Warn("volume prune: cannot remove volume", "volume", r.Name, "error", err)
			continue
		}
		rep.VolumesDeleted = append(rep.VolumesDeleted, r.Name)
		rep.SpaceReclaimed += uint64(size)
	}
	s.event(ctx, eventtypes.ActionPrune, "", map[string]string{"reclaimed": strconv.FormatUint(rep.SpaceReclaimed, 10)})
	return rep, nil
}

// dirSize is the bytes of the regular files under dir (hard links counted once).
func dirSize(dir string) int64 {
	var size int64
	seen := map[uint64]bool{}
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if ino, ok := inode(fi); ok {
			if seen[ino] {
				return nil
			}
			seen[ino] = true
		}
		size += fi.Size()
		return nil
	})
	return size
}

// Usage lists every volume with its size and reference count, for
// GET /system/df.
func (s *Service) Usage(_ context.Context) ([]*volumetypes.Volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*volumetypes.Volume{}
	for _, r := range s.sorted() {
		v := s.toAPI(r)
		v.UsageData = &volumetypes.UsageData{Size: dirSize(s.dataPath(r.Name)), RefCount: int64(len(s.refs[r.Name]))}
		out = append(out, v)
	}
	return out, nil
}
