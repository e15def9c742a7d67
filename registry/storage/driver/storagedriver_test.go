package driver

import (
	"regexp"
	"strings"
	"testing"
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
	level := []string{""}
	paths = append(paths, "")
	for range 6 {
		var next []string
		for _, p := range level {
			for i := 0; i < len(alphabet); i++ {
				next = append(next, p+alphabet[i:i+1])
			}
		}
		paths = append(paths, next...)
		level = next
	}
	for _, p := range paths {
		if got, want := ValidPath(p), old(p); got != want {
			t.Errorf("ValidPath(%q) = %v, the regexp rule says %v", p, got, want)
		}
	}
}
