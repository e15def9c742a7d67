// Package httputils is what every API router's handlers share: the handler
// type, JSON in and out, form values, the API version of the request, and the
// one mapping from error classes (engine/errdefs) to HTTP status codes.
//
// A handler reads its request, calls its backend and either writes a response
// or returns an error; it never writes an error itself:
//
//	func (r *imageRouter) getImage(ctx context.Context, w http.ResponseWriter, req *http.Request, vars map[string]string) error {
//		img, err := r.backend.Get(ctx, vars["name"])
//		if err != nil {
//			return err // e.g. errdefs.NotFound(...) -> 404 {"message": "..."}
//		}
//		return httputils.WriteJSON(w, http.StatusOK, img)
//	}
//
// The server writes a returned error once, as dockerd does, with WriteError.
package httputils

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// APIFunc is the handler of one route. vars holds the path variables of the
// route's pattern (see engine/router), already unescaped.
type APIFunc func(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error

type versionKey struct{}

// WithVersion returns ctx carrying the negotiated API version ("1.51"). The
// server sets it on every request before calling a handler.
func WithVersion(ctx context.Context, version string) context.Context {
	return context.WithValue(ctx, versionKey{}, version)
}

// VersionFromContext returns the API version of the request: the one in its
// /v1.NN/ path prefix, or the server's default version for unversioned paths.
// It returns "" only for a context the server did not make.
func VersionFromContext(ctx context.Context) string {
	v, _ := ctx.Value(versionKey{}).(string)
	return v
}

// WriteJSON writes v as the JSON body of a response with status code, with
// HTML escaping off as dockerd does.
func WriteJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// CheckForJSON refuses a request whose body is not declared as JSON. A request
// without body may leave Content-Type out. The messages are dockerd's.
func CheckForJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" && (r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0) {
		return nil
	}
	return MatchesContentType(ct, "application/json")
}

// MatchesContentType reports (as an InvalidParameter error) whether
// contentType's media type is not want, ignoring parameters like charset.
func MatchesContentType(contentType, want string) error {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("malformed Content-Type header (%s): %w", contentType, err))
	}
	if mt != want {
		return errdefs.InvalidParameter(fmt.Errorf("unsupported Content-Type header (%s): must be '%s'", contentType, want))
	}
	return nil
}

// ReadJSON checks the Content-Type of r (see CheckForJSON) and decodes its
// body into out. An empty body is not an error and leaves out untouched.
// Malformed JSON, or anything after the JSON value, is InvalidParameter.
func ReadJSON(r *http.Request, out any) error {
	if err := CheckForJSON(r); err != nil {
		return err
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	defer r.Body.Close()
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return errdefs.InvalidParameter(errors.New("invalid JSON: got EOF while reading request body"))
		}
		return errdefs.InvalidParameter(fmt.Errorf("invalid JSON: %w", err))
	}
	if dec.More() {
		return errdefs.InvalidParameter(errors.New("unexpected content after JSON"))
	}
	return nil
}

// ParseForm parses the query (and a form body) of r; a malformed one is
// InvalidParameter. A body that is not a form (a tar, JSON) is left alone.
func ParseForm(r *http.Request) error {
	if r == nil {
		return nil
	}
	if err := r.ParseForm(); err != nil && !strings.HasPrefix(err.Error(), "mime:") {
		return errdefs.InvalidParameter(err)
	}
	return nil
}

// BoolValue reads the form value key as dockerd does: absent, "", "0", "no",
// "false" and "none" (any case) are false, anything else is true.
func BoolValue(r *http.Request, key string) bool {
	s := strings.ToLower(strings.TrimSpace(r.FormValue(key)))
	return !(s == "" || s == "0" || s == "no" || s == "false" || s == "none")
}

// BoolValueOrDefault is BoolValue, but def when key is absent.
func BoolValueOrDefault(r *http.Request, key string, def bool) bool {
	if _, ok := r.Form[key]; !ok {
		return def
	}
	return BoolValue(r, key)
}
