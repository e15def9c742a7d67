package storage

import (
	"regexp"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/internal/teststrings"
)

// TestIsUploadIDEqualsRegexp checks isUploadID against the regexp it
// replaces, and that it takes every id newUploadID makes.
func TestIsUploadIDEqualsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	ids := []string{"", strings.Repeat("a", 63), strings.Repeat("Z", 64), strings.Repeat("9", 65),
		strings.Repeat("-", 64) + "\n", "../x", "a/b", newUploadID()}
	const alphabet = "aZ09_-./\n\xff"
	ids = append(ids, teststrings.All(alphabet, 4)...)
	for _, id := range ids {
		if got, want := isUploadID(id), re.MatchString(id); got != want {
			t.Errorf("isUploadID(%q) = %v, regexp says %v", id, got, want)
		}
	}
	for range 100 {
		if id := newUploadID(); !isUploadID(id) {
			t.Fatalf("isUploadID refuses newUploadID's %q", id)
		}
	}
}
