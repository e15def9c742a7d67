package ident

import (
	"regexp"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/internal/teststrings"
)

// The alphabet holds one of each class the rules tell apart, plus the
// bytes at the edges of each range and some they must refuse.
const alphabet = "09afgAzZ_.-/ \n\xff"

func TestIsNameEqualsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^` + NameChars + `*$`)
	for _, s := range teststrings.All(alphabet, 4) {
		if got, want := IsName(s), re.MatchString(s); got != want {
			t.Errorf("IsName(%q) = %v, regexp says %v", s, got, want)
		}
	}
}

func TestIsLowerHexEqualsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[a-f0-9]+$`)
	for _, s := range teststrings.All(alphabet, 4) {
		if got, want := IsLowerHex(s), re.MatchString(s); got != want {
			t.Errorf("IsLowerHex(%q) = %v, regexp says %v", s, got, want)
		}
	}
}

func TestIDLengths(t *testing.T) {
	full := regexp.MustCompile(`^[a-f0-9]{64}$`)
	prefix := regexp.MustCompile(`^[a-f0-9]{1,64}$`)
	for _, tc := range []string{
		"", "a", strings.Repeat("a", 63), strings.Repeat("0", 64), strings.Repeat("f", 65),
		strings.Repeat("a", 63) + "g", strings.Repeat("a", 63) + "A", "sha256:" + strings.Repeat("a", 57),
		strings.Repeat("a", 64) + "\n",
	} {
		if got, want := IsFullID(tc), full.MatchString(tc); got != want {
			t.Errorf("IsFullID(%q) = %v, regexp says %v", tc, got, want)
		}
		if got, want := IsIDPrefix(tc), prefix.MatchString(tc); got != want {
			t.Errorf("IsIDPrefix(%q) = %v, regexp says %v", tc, got, want)
		}
	}
	if !IsFullID("4f2b31bd04bd7d12c6c8c6c2b3a0c3e0d5ad8ed8f0d4a0e8c9c3e3f2a1b0c9d8") {
		t.Error("IsFullID refuses a real-looking ID")
	}
}
