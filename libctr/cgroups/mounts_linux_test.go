package cgroups

import (
	"maps"
	"os"
	"strings"
	"testing"
)

// V1Mounts finds what a plain split of every mountinfo line finds.
func TestV1MountsMatchesPlainParse(t *testing.T) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skip("no /proc/self/mountinfo: ", err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		for i, x := range f {
			if x != "-" || i+3 >= len(f) || f[i+1] != "cgroup" {
				continue
			}
			for _, opt := range strings.Split(f[i+3], ",") {
				for _, c := range v1Controllers {
					if _, dup := want[c]; opt == c && !dup {
						want[c] = f[4]
					}
				}
			}
			break
		}
	}
	got, err := V1Mounts()
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("V1Mounts = %v, want %v", got, want)
	}
}
