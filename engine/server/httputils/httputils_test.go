package httputils

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/engine/errdefs"
)

func TestStatusFromError(t *testing.T) {
	base := errors.New("boom")
	cases := []struct {
		err  error
		want int
	}{
		{errdefs.NotFound(base), 404},
		{fmt.Errorf("outer: %w", errdefs.InvalidParameter(base)), 400},
		{errdefs.Conflict(base), 409},
		{errdefs.Unauthorized(base), 401},
		{errdefs.Forbidden(base), 403},
		{errdefs.Unavailable(base), 503},
		{errdefs.NotImplemented(base), 501},
		{errdefs.System(base), 500},
		{base, 500},
	}
	for _, c := range cases {
		if got := StatusFromError(c.err); got != c.want {
			t.Errorf("StatusFromError(%v) = %d, want %d", c.err, got, c.want)
		}
		if c.err.Error() != "boom" && !strings.HasSuffix(c.err.Error(), "boom") {
			t.Errorf("message changed: %q", c.err.Error())
		}
	}
	if errdefs.NotFound(nil) != nil {
		t.Error("NotFound(nil) must be nil")
	}
}

func TestReadJSON(t *testing.T) {
	type body struct{ A int }
	cases := []struct {
		ct, body string
		status   int
		msg      string
	}{
		{"application/json", `{"A":1}`, 0, ""},
		{"application/json; charset=utf-8", `{"A":1}`, 0, ""},
		{"text/plain", `{"A":1}`, 400, "unsupported Content-Type header (text/plain): must be 'application/json'"},
		{"", `{"A":1}`, 400, "malformed Content-Type header (): mime: no media type"},
		{"application/json", `{"A":`, 400, "invalid JSON: unexpected EOF"},
		{"application/json", `{"A":1}{}`, 400, "unexpected content after JSON"},
		{"application/json", `{"A":"x"}`, 400, "invalid JSON: json: cannot unmarshal"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(c.body))
		if c.ct != "" {
			r.Header.Set("Content-Type", c.ct)
		}
		var b body
		err := ReadJSON(r, &b)
		if c.status == 0 {
			if err != nil || b.A != 1 {
				t.Errorf("%q %q: err %v, A %d", c.ct, c.body, err, b.A)
			}
			continue
		}
		if err == nil || StatusFromError(err) != c.status || !strings.HasPrefix(err.Error(), c.msg) {
			t.Errorf("%q %q: got %v (%d), want %d %q", c.ct, c.body, err, StatusFromError(err), c.status, c.msg)
		}
	}
	// No body and no Content-Type is fine.
	r := httptest.NewRequest("POST", "/x", http.NoBody)
	if err := ReadJSON(r, new(body)); err != nil {
		t.Errorf("empty body: %v", err)
	}
}

func TestBoolValueAndWriteError(t *testing.T) {
	r := httptest.NewRequest("GET", "/x?a=1&b=false&c=None&d=yes&e=", nil)
	if err := ParseForm(r); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]bool{"a": true, "b": false, "c": false, "d": true, "e": false, "z": false} {
		if BoolValue(r, k) != want {
			t.Errorf("BoolValue(%s) != %v", k, want)
		}
	}
	if !BoolValueOrDefault(r, "z", true) || BoolValueOrDefault(r, "b", true) {
		t.Error("BoolValueOrDefault")
	}
	w := httptest.NewRecorder()
	WriteError(w, errdefs.NotFound(errors.New("No such image: x")))
	if w.Code != 404 || w.Body.String() != "{\"message\":\"No such image: x\"}\n" || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("WriteError: %d %q", w.Code, w.Body.String())
	}
}
