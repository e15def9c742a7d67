package image

import (
	"context"
	"time"

	imagetypes "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/storage"
)

// Inspect is GET /images/{name}/json.
func (s *Service) Inspect(ctx context.Context, name string) (*imagetypes.InspectResponse, error) {
	rec, _, err := s.resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	cfg, err := s.config(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	refs, err := s.db.refs()
	if err != nil {
		return nil, err
	}
	tags, digests := refsOf(refs, rec.ID)
	layers := make([]string, len(cfg.RootFS.DiffIDs))
	for i, d := range cfg.RootFS.DiffIDs {
		layers[i] = d.String()
	}
	created := ""
	if cfg.Created != nil {
		created = cfg.Created.UTC().Format(time.RFC3339Nano)
	}
	chains := ChainIDs(cfg.RootFS.DiffIDs)
	driver, _ := s.StorageDriver()
	gd := storage.DriverData{Name: driver, Data: map[string]string{}}
	if len(chains) > 0 {
		gd.Data["TopLayer"] = chains[len(chains)-1].String()
	}
	resp := &imagetypes.InspectResponse{
		ID:            rec.ID.String(),
		RepoTags:      tags,
		RepoDigests:   digests,
		Parent:        cfg.Parent,
		Comment:       cfg.Comment,
		Created:       created,
		DockerVersion: cfg.DockerVersion,
		Author:        cfg.Author,
		Config:        &cfg.DockerOCIImage.Config,
		Architecture:  cfg.Architecture,
		Variant:       cfg.Variant,
		Os:            cfg.OS,
		OsVersion:     cfg.OSVersion,
		Size:          s.size(cfg),
		GraphDriver:   gd,
		RootFS:        imagetypes.RootFS{Type: "layers", Layers: layers},
	}
	if !rec.TagTime.IsZero() {
		resp.Metadata.LastTagTime = rec.TagTime
	}
	d := rec.Manifest
	resp.Descriptor = &d
	return resp, nil
}

// History is GET /images/{name}/history: the config's history, newest
// first, with the image ID and tags on the top entry and each non-empty
// entry sized by its layer.
func (s *Service) History(ctx context.Context, name string) ([]imagetypes.HistoryResponseItem, error) {
	rec, _, err := s.resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	cfg, err := s.config(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	refs, err := s.db.refs()
	if err != nil {
		return nil, err
	}
	tags, _ := refsOf(refs, rec.ID)
	chains := ChainIDs(cfg.RootFS.DiffIDs)
	var items []imagetypes.HistoryResponseItem
	layer := 0
	for _, h := range cfg.History {
		item := imagetypes.HistoryResponseItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Tags: []string{}}
		if h.Created != nil {
			item.Created = h.Created.Unix()
		}
		if !h.EmptyLayer && layer < len(chains) {
			item.Size = s.db.layerSize(chains[layer].String())
			layer++
		}
		items = append(items, item)
	}
	if len(items) == 0 { // an image without history still has itself
		items = append(items, imagetypes.HistoryResponseItem{CreatedBy: "", Size: s.size(cfg)})
	}
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
	items[0].ID = rec.ID.String()
	items[0].Tags = tags
	return items, nil
}
