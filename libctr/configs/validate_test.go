package configs

import (
	"regexp"
	"strings"
	"testing"
)

// ValidateID accepts exactly what the regexp it replaced accepted.
func TestValidateIDMatchesRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[\w+\-.]+$`)
	ids := []string{"", ".", "..", "...", "a", "web-1", "A_b+c.d", "a/b", "a b", "é", "a\x00", "ok\n", strings.Repeat("x", 1024), strings.Repeat("x", 1025)}
	for c := range 256 {
		ids = append(ids, "x"+string(rune(c)), string([]byte{byte(c)}))
	}
	for _, id := range ids {
		want := id != "." && id != ".." && len(id) <= 1024 && re.MatchString(id)
		if got := ValidateID(id) == nil; got != want {
			t.Errorf("ValidateID(%q) ok = %v, want %v", id, got, want)
		}
	}
}
