package server

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/wharf-project/wharf/engine/router"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

// route is a router.Route with its pattern compiled.
type route struct {
	method  string
	re      *regexp.Regexp
	names   []string
	handler httputils.APIFunc
}

// compile turns "/images/{name:.*}/json" into ^/images/(.*)/json$, with the
// names of the groups in order. "{x}" is one path segment.
func compile(r router.Route) (route, error) {
	var b strings.Builder
	var names []string
	b.WriteString("^")
	p := r.Path
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(p))
			break
		}
		b.WriteString(regexp.QuoteMeta(p[:i]))
		j := matchingBrace(p, i)
		if j < 0 {
			return route{}, fmt.Errorf("route %s %s: unbalanced braces", r.Method, r.Path)
		}
		name, expr, ok := strings.Cut(p[i+1:j], ":")
		if !ok {
			expr = `[^/]+`
		}
		names = append(names, name)
		b.WriteString("(" + expr + ")")
		p = p[j+1:]
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return route{}, fmt.Errorf("route %s %s: %w", r.Method, r.Path, err)
	}
	if re.NumSubexp() != len(names) {
		return route{}, fmt.Errorf("route %s %s: use (?:...) for groups inside a variable", r.Method, r.Path)
	}
	return route{method: r.Method, re: re, names: names, handler: r.Handler}, nil
}

func matchingBrace(s string, open int) int {
	depth := 0
	for k := open; k < len(s); k++ {
		switch s[k] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return -1
}

// match finds the route for method and the (unversioned) path. Like
// gorilla/mux, vars hold the decoded path, so a name with an escaped "/"
// still reaches the handler whole.
func match(routes []route, method, path string) (httputils.APIFunc, map[string]string, bool) {
	for _, rt := range routes {
		if rt.method != method {
			continue
		}
		m := rt.re.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		vars := make(map[string]string, len(rt.names)+1)
		for i, n := range rt.names {
			vars[n] = m[i+1]
		}
		return rt.handler, vars, true
	}
	return nil, nil, false
}

// splitVersion splits "/v1.51/images/json" into "1.51" and "/images/json".
// An unversioned path returns "" and itself.
//
// The version prefix is dockerd's "/v{version:[0-9.]+}", the regexp
// ^/v([0-9.]+)(/.*)$, checked by hand so that no start of the binary pays
// for compiling it ("." stops at a newline, hence the newline check).
func splitVersion(u *url.URL) (version, path string) {
	path = u.Path
	rest, ok := strings.CutPrefix(path, "/v")
	if !ok {
		return "", path
	}
	i := 0
	for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
		i++
	}
	if i == 0 || !strings.HasPrefix(rest[i:], "/") || strings.ContainsRune(rest[i:], '\n') {
		return "", path
	}
	return rest[:i], rest[i:]
}

func notFound(w http.ResponseWriter) {
	_ = httputils.WriteJSON(w, http.StatusNotFound, httputils.ErrorResponse{Message: "page not found"})
}
