package configs

import (
	"errors"
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

// A blkio weight is 0 (none) or 10 to 1000, checked in Validate whether it
// comes from a config or from an update (Resources.Validate).
func TestBlkioWeightRange(t *testing.T) {
	for w, ok := range map[uint16]bool{0: true, 10: true, 500: true, 1000: true, 5: false, 1001: false} {
		c := &Config{Rootfs: "/r", Cgroups: &Cgroup{Resources: &Resources{BlkioWeight: w}}}
		if err := c.Validate(); (err == nil) != ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("weight %d: %v, want ok %v", w, err, ok)
		}
	}
}
