package image

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	imagetypes "github.com/docker/docker/api/types/image"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/image"
	"github.com/wharf-project/wharf/engine/server/httputils"
	"github.com/wharf-project/wharf/internal/testimage"
)

func newRouter(t *testing.T) *imageRouter {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the image store unpacks layers and needs root")
	}
	s, err := image.NewService(context.Background(), image.Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return New(s).(*imageRouter)
}

func call(t *testing.T, h httputils.APIFunc, method, target string, body []byte, vars map[string]string) (*httptest.ResponseRecorder, error) {
	t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	rec := httptest.NewRecorder()
	err := h(req.Context(), rec, req, vars)
	return rec, err
}

func TestRoutesEndToEnd(t *testing.T) {
	ir := newRouter(t)
	img, _ := testimage.Synthetic("route", 1)
	var tarball bytes.Buffer
	img.WriteDockerSave(&tarball, "route:1")

	rec, err := call(t, ir.postImagesLoad, "POST", "/images/load?quiet=1", tarball.Bytes(), nil)
	if err != nil || rec.Code != 200 || !strings.Contains(rec.Body.String(), `"stream":"Loaded image: route:1\n"`) {
		t.Fatalf("load: %v %d %s", err, rec.Code, rec.Body)
	}
	if _, err := call(t, ir.postImagesTag, "POST", "/images/route:1/tag?repo=other&tag=2", nil, map[string]string{"name": "route:1"}); err != nil {
		t.Fatal(err)
	}
	rec, err = call(t, ir.getImagesJSON, "GET", `/images/json?filters={"reference":["other"]}`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var list []imagetypes.Summary
	json.Unmarshal(rec.Body.Bytes(), &list)
	if len(list) != 1 || list[0].ID != img.ID() || strings.Join(list[0].RepoTags, ",") != "other:2" {
		t.Fatalf("list = %+v", list)
	}
	rec, err = call(t, ir.getImagesByName, "GET", "/images/other:2/json", nil, map[string]string{"name": "other:2"})
	if err != nil || !strings.Contains(rec.Body.String(), img.ID()) {
		t.Fatalf("inspect: %v %s", err, rec.Body)
	}
	rec, err = call(t, ir.getImagesGet, "GET", "/images/get?names=route:1", nil, nil)
	if err != nil || rec.Header().Get("Content-Type") != "application/x-tar" || rec.Body.Len() < 1024 {
		t.Fatalf("save: %v %v", err, rec.Header())
	}
	// Deleting by ID while in two repositories needs force.
	if _, err := call(t, ir.deleteImages, "DELETE", "/images/x", nil, map[string]string{"name": img.ID()}); !errdefs.IsConflict(err) {
		t.Fatalf("delete by id: %v", err)
	}
	rec, err = call(t, ir.deleteImages, "DELETE", "/images/x?force=1", nil, map[string]string{"name": img.ID()})
	if err != nil || !strings.Contains(rec.Body.String(), `"Deleted":"`+img.ID()) {
		t.Fatalf("forced delete: %v %s", err, rec.Body)
	}
}

func TestRouteErrors(t *testing.T) {
	ir := newRouter(t)
	for name, tc := range map[string]struct {
		h      httputils.APIFunc
		target string
		body   []byte
		vars   map[string]string
		status int
	}{
		"unknown image":  {ir.getImagesByName, "/images/nosuch/json", nil, map[string]string{"name": "nosuch"}, 404},
		"bad reference":  {ir.getImagesByName, "/images/x/json", nil, map[string]string{"name": "Bad Name"}, 400},
		"bad filters":    {ir.getImagesJSON, "/images/json?filters={bad", nil, nil, 400},
		"unknown filter": {ir.getImagesJSON, `/images/json?filters={"nope":["x"]}`, nil, nil, 400},
		"no source":      {ir.postImagesCreate, "/images/create", nil, nil, 400},
		"bad pull ref":   {ir.postImagesCreate, "/images/create?fromImage=UPPER", nil, nil, 400},
		"truncated load": {ir.postImagesLoad, "/images/load", []byte("not a tar"), nil, 400},
		"tag no repo":    {ir.postImagesTag, "/images/x/tag", nil, map[string]string{"name": "x"}, 400},
		"save unknown":   {ir.getImagesGet, "/images/get?names=nosuch", nil, nil, 404},
		"bad import":     {ir.postImagesCreate, "/images/create?fromSrc=-", []byte("garbage that is no tar"), nil, 400},
		"bad change":     {ir.postImagesCreate, "/images/create?fromSrc=-&changes=FROB+x", nil, nil, 400},
	} {
		rec, err := call(t, tc.h, "POST", tc.target, tc.body, tc.vars)
		if err == nil {
			t.Errorf("%s: no error (status %d, %s)", name, rec.Code, rec.Body)
			continue
		}
		if got := httputils.StatusFromError(err); got != tc.status {
			t.Errorf("%s: status %d, want %d (%v)", name, got, tc.status, err)
		}
		if rec.Body.Len() != 0 {
			t.Errorf("%s: handler wrote a body before failing: %s", name, rec.Body)
		}
	}
	_ = http.StatusOK
}
