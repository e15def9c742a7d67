package storage

import (
	"context"
	"path"
	"strings"
	"time"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

// PurgeUploads deletes upload sessions started before olderThan (or whose
// start time cannot be read), as distribution's upload purging does. With
// remove false it only counts them (dry run).
func PurgeUploads(ctx context.Context, d driver.StorageDriver, olderThan time.Time, remove bool) (int, error) {
	var stale []string
	err := d.Walk(ctx, repositoriesRoot(), func(fi driver.FileInfo) error {
		if !fi.IsDir() {
			return nil
		}
		p := fi.Path()
		if path.Base(path.Dir(p)) != "_uploads" {
			if strings.HasPrefix(path.Base(p), "_") && path.Base(p) != "_uploads" {
				return driver.ErrSkipDir
			}
			return nil
		}
		b, err := d.GetContent(ctx, p+"/startedat")
		started, perr := time.Parse(time.RFC3339, strings.TrimSpace(string(b)))
		if err != nil || perr != nil || started.Before(olderThan) {
			stale = append(stale, p)
		}
		return driver.ErrSkipDir
	})
	if err != nil && !isNotFound(err) {
		return 0, err
	}
	if remove {
		for _, p := range stale {
			if err := d.Delete(ctx, p); err != nil && !isNotFound(err) {
				return 0, err
			}
		}
	}
	return len(stale), nil
}
