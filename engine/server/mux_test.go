package server

import (
	"net/url"
	"regexp"
	"testing"

	"github.com/wharf-project/wharf/internal/teststrings"
)

// TestSplitVersionEqualsRegexp checks the hand-written split against the
// regexp it replaces, on every path of up to six bytes drawn from the
// characters that matter, plus a few real ones.
func TestSplitVersionEqualsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^/v([0-9.]+)(/.*)$`)
	paths := []string{"/v1.51/images/json", "/images/json", "/v1.51", "/v/x", "/version", "/v1.40/x\ny", "/v1.4a/x"}
	const alphabet = "/v19.x\n"
	paths = append(paths, teststrings.All(alphabet, 6)...)
	for _, p := range paths {
		wantV, wantP := "", p
		if m := re.FindStringSubmatch(p); m != nil {
			wantV, wantP = m[1], m[2]
		}
		v, rest := splitVersion(&url.URL{Path: p})
		if v != wantV || rest != wantP {
			t.Errorf("splitVersion(%q) = %q, %q; regexp says %q, %q", p, v, rest, wantV, wantP)
		}
	}
}
