package handlers

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/registry/api/errcode"
)

// paginate applies the spec's n and last parameters to sorted names. It
// returns the page and, when more follow, the Link header value.
func paginate(r *http.Request, names []string) ([]string, string, error) {
	q := r.URL.Query()
	if last := q.Get("last"); last != "" {
		i := sort.SearchStrings(names, last)
		if i < len(names) && names[i] == last {
			i++
		}
		names = names[i:]
	}
	if ns := q.Get("n"); ns != "" {
		n, err := strconv.Atoi(ns)
		if err != nil || n < 0 {
			return nil, "", errcode.ErrorCodePaginationInvalid.WithDetail(ns)
		}
		if n < len(names) {
			names = names[:n]
			if n > 0 {
				next := url.Values{"n": {ns}, "last": {names[n-1]}}
				u := url.URL{Path: r.URL.Path, RawQuery: next.Encode()}
				return names, "<" + u.String() + `>; rel="next"`, nil
			}
		}
	}
	return names, "", nil
}

func (a *App) listTags(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error {
	if _, _, err := paginate(r, nil); err != nil {
		return err // a bad n is refused before the lookup
	}
	tags, err := a.reg.Repository(req.name).Tags(ctx)
	if err != nil {
		return err
	}
	page, link, err := paginate(r, tags)
	if err != nil {
		return err
	}
	if link != "" {
		w.Header().Set("Link", link)
	}
	return writeJSON(w, http.StatusOK, "application/json", struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{req.name, page})
}

func (a *App) catalog(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	names, err := a.reg.Repositories(ctx)
	if err != nil {
		return err
	}
	page, link, err := paginate(r, names)
	if err != nil {
		return err
	}
	if link != "" {
		w.Header().Set("Link", link)
	}
	return writeJSON(w, http.StatusOK, "application/json", struct {
		Repositories []string `json:"repositories"`
	}{page})
}

func (a *App) listReferrers(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error {
	d, err := parseDigest(req.ref)
	if err != nil {
		return err
	}
	artifactType := r.URL.Query().Get("artifactType")
	descs, err := a.reg.Repository(req.name).Referrers(ctx, d, artifactType)
	if err != nil {
		return err
	}
	if artifactType != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	idx := v1.Index{MediaType: v1.MediaTypeImageIndex, Manifests: descs}
	idx.SchemaVersion = 2
	return writeJSON(w, http.StatusOK, v1.MediaTypeImageIndex, idx)
}
