package refgrammar

import (
	"regexp"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/internal/teststrings"
)

func TestIsRepoNameEqualsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	names := append(teststrings.All("a0._-/A", 6),
		"library/alpine", "a/b/c/d", "my-org/my--app", "foo__bar", "foo___bar", "foo._bar",
		"foo.bar-baz_qux/x", "a\n", "a/\nb", "\xffa", "Alpine", "a//b", "/a", "a/")
	for _, s := range names {
		if got, want := IsPath(s), re.MatchString(s); got != want {
			t.Errorf("IsPath(%q) = %v, regexp says %v", s, got, want)
		}
	}
}

func TestIsTagEqualsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	tags := append(teststrings.All("aZ9_.-/:\n\xff", 4),
		strings.Repeat("a", 127), strings.Repeat("a", 128), strings.Repeat("a", 129),
		"_"+strings.Repeat(".", 127), "latest", "v1.2.3-rc.1", "sha256:abc")
	for _, s := range tags {
		if got, want := IsTag(s), re.MatchString(s); got != want {
			t.Errorf("IsTag(%q) = %v, regexp says %v", s, got, want)
		}
	}
}
