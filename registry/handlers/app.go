// Package handlers serves the registry's HTTP API: the Docker Registry HTTP
// API v2 and the OCI distribution spec 1.1, on top of registry/storage.
//
// Routes (name may hold slashes; reference is a tag or a digest):
//
//	GET,HEAD              /v2/
//	GET                   /v2/_catalog
//	GET,HEAD,PUT,DELETE   /v2/<name>/manifests/<reference>
//	GET,HEAD,DELETE       /v2/<name>/blobs/<digest>
//	POST                  /v2/<name>/blobs/uploads/
//	GET,PATCH,PUT,DELETE  /v2/<name>/blobs/uploads/<id>
//	GET                   /v2/<name>/tags/list
//	GET                   /v2/<name>/referrers/<digest>
//
// Handlers return errors; serveError writes them once as the spec's JSON.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/wharf-project/wharf/registry/api/errcode"
	"github.com/wharf-project/wharf/registry/storage"
)

// Options are the parts of the registry's config the API obeys.
type Options struct {
	DeleteEnabled bool // storage.delete.enabled
	ReadOnly      bool // storage.maintenance.readonly.enabled
	Logger        *slog.Logger
}

// App is the registry API on one storage.
type App struct {
	reg    *storage.Registry
	opts   Options
	log    *slog.Logger
	routes []route
}

// New returns the API handler for reg.
func New(reg *storage.Registry, opts Options) *App {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	a := &App{reg: reg, opts: opts, log: log}
	a.routes = a.routeTable()
	return a
}

// request carries what the router learnt of one request.
type request struct {
	name string // repository
	ref  string // reference, digest or upload id, by route
}

type handlerFunc func(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error

type route struct {
	re      *regexp.Regexp
	methods map[string]handlerFunc
}

const nameRe = `(.+?)`

func (a *App) routeTable() []route {
	return []route{
		{regexp.MustCompile(`^/v2/` + nameRe + `/manifests/([^/]+)$`), map[string]handlerFunc{
			"GET": a.getManifest, "HEAD": a.getManifest, "PUT": a.putManifest, "DELETE": a.deleteManifest}},
		{regexp.MustCompile(`^/v2/` + nameRe + `/blobs/uploads/?$`), map[string]handlerFunc{
			"POST": a.startUpload}},
		{regexp.MustCompile(`^/v2/` + nameRe + `/blobs/uploads/([^/]+)$`), map[string]handlerFunc{
			"GET": a.uploadStatus, "PATCH": a.patchUpload, "PUT": a.putUpload, "DELETE": a.cancelUpload}},
		{regexp.MustCompile(`^/v2/` + nameRe + `/blobs/([^/]+)$`), map[string]handlerFunc{
			"GET": a.getBlob, "HEAD": a.getBlob, "DELETE": a.deleteBlob}},
		{regexp.MustCompile(`^/v2/` + nameRe + `/tags/list$`), map[string]handlerFunc{
			"GET": a.listTags}},
		{regexp.MustCompile(`^/v2/` + nameRe + `/referrers/([^/]+)$`), map[string]handlerFunc{
			"GET": a.listReferrers}},
	}
}

// ServeHTTP routes one request.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/v2") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	err := a.route(w, r, p)
	if err != nil {
		a.serveError(w, r, err)
	}
}

func (a *App) route(w http.ResponseWriter, r *http.Request, p string) error {
	ctx := r.Context()
	switch p {
	case "/v2", "/v2/":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return methodNotAllowed(w, "GET, HEAD")
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write([]byte("{}"))
		}
		return nil
	case "/v2/_catalog":
		if r.Method != http.MethodGet {
			return methodNotAllowed(w, "GET")
		}
		return a.catalog(ctx, w, r)
	}
	for _, rt := range a.routes {
		m := rt.re.FindStringSubmatch(p)
		if m == nil {
			continue
		}
		h, ok := rt.methods[r.Method]
		if !ok {
			allow := make([]string, 0, len(rt.methods))
			for k := range rt.methods {
				allow = append(allow, k)
			}
			return methodNotAllowed(w, strings.Join(allow, ", "))
		}
		req := request{name: m[1]}
		if len(m) > 2 {
			req.ref = m[2]
		}
		if err := validateName(req.name); err != nil {
			return err
		}
		if a.opts.ReadOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
			return errcode.ErrorCodeUnsupported.WithMessage("registry is in read-only mode")
		}
		return h(ctx, w, r, req)
	}
	return errcode.ErrorCode{Value: "NOT_FOUND", Message: "no such route", HTTPStatus: http.StatusNotFound}
}

func methodNotAllowed(w http.ResponseWriter, allow string) error {
	w.Header().Set("Allow", allow)
	return errcode.ErrorCodeUnsupported.WithMessage("method not allowed")
}
