package image

import (
	"context"

	"github.com/docker/docker/api/types/filters"
	imagetypes "github.com/docker/docker/api/types/image"
)

// ImageDiskUsage is the image part of GET /system/df: every image with its
// size, and the size of all unpacked layers (shared ones counted once).
func (s *Service) ImageDiskUsage(ctx context.Context) (int64, []*imagetypes.Summary, error) {
	list, err := s.List(ctx, ListOptions{Filters: filters.NewArgs()})
	if err != nil {
		return 0, nil, err
	}
	out := make([]*imagetypes.Summary, len(list))
	for i := range list {
		out[i] = &list[i]
	}
	var total int64
	recs, err := s.db.list()
	if err != nil {
		return 0, nil, err
	}
	seen := map[string]bool{}
	for _, r := range recs {
		cfg, err := s.config(ctx, r.ID)
		if err != nil {
			continue
		}
		for _, c := range ChainIDs(cfg.RootFS.DiffIDs) {
			if !seen[c.String()] {
				seen[c.String()] = true
				total += s.db.layerSize(c.String())
			}
		}
	}
	return total, out, nil
}

// StorageDriver names the snapshotter for /info, as dockerd with the
// containerd image store does ("overlayfs", "native").
func (s *Service) StorageDriver() (string, [][2]string) {
	name := s.snName
	if name == "overlay" {
		name = "overlayfs"
	}
	return name, [][2]string{{"driver-type", "io.containerd.snapshotter.v1"}}
}
