package driver

import (
	"regexp"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/internal/teststrings"
)

// TestValidPathEqualsRegexp checks the hand-written ValidPath against the
// rule it replaces (the regexp, "/" allowed, no "." or ".." component) on
// every path of up to six bytes drawn from the characters that matter.
func TestValidPathEqualsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^(/[A-Za-z0-9._-]+)+$`)
	old := func(p string) bool {
		if p == "/" {
			return true
		}
		if !re.MatchString(p) {
			return false
		}
		for _, c := range strings.Split(p[1:], "/") {
			if c == "." || c == ".." {
				return false
			}
		}
		return true
	}
	const alphabet = "/.aZ9_-:\n"
	paths := []string{"/docker/registry/v2/blobs/sha256/ab/abcd/data", "/a/../../etc", "/..", "/...", "//", "/a/", "a/b"}
	paths = append(paths, teststrings.All(alphabet, 6)...)
	for _, p := range paths {
		if got, want := ValidPath(p), old(p); got != want {
			t.Errorf("ValidPath(%q) = %v, the regexp rule says %v", p, got, want)
		}
	}
}
