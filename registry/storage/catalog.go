package storage

import (
	"context"
	"sort"
	"strings"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

// Repositories returns the names of all repositories in lexical order. A
// directory under repositories/ is a repository when it holds _manifests,
// _layers or _uploads, as in distribution; names nest (library/busybox).
func (reg *Registry) Repositories(ctx context.Context) ([]string, error) {
	root := repositoriesRoot()
	var names []string
	err := reg.driver.Walk(ctx, root, func(fi driver.FileInfo) error {
		if !fi.IsDir() {
			return nil
		}
		base := fi.Path()[strings.LastIndex(fi.Path(), "/")+1:]
		if strings.HasPrefix(base, "_") {
			if base == "_manifests" || base == "_layers" || base == "_uploads" {
				name := strings.TrimPrefix(fi.Path()[:len(fi.Path())-len(base)-1], root+"/")
				if n := len(names); n == 0 || names[n-1] != name {
					names = append(names, name)
				}
			}
			return driver.ErrSkipDir
		}
		return nil
	})
	if isNotFound(err) {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}
