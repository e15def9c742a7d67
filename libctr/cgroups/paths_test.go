package cgroups

import (
	"maps"
	"testing"

	"github.com/wharf-project/wharf/libctr/configs"
)

// FromPaths gives back the manager whose Paths were recorded, and New's
// answer for paths that do not fit the cgroup.
func TestFromPaths(t *testing.T) {
	cg := &configs.Cgroup{Path: "/wharf/c1"}

	v2dir := t.TempDir() + "/wharf/c1"
	m, err := FromPaths(cg, map[string]string{"": v2dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Paths(); !maps.Equal(got, map[string]string{"": v2dir}) {
		t.Fatalf("v2 paths %v, want %s", got, v2dir)
	}
	if _, ok := m.(*v2); !ok {
		t.Fatalf("v2 paths gave a %T", m)
	}

	v1paths := map[string]string{"memory": "/sys/fs/cgroup/memory/wharf/c1", "cpu": "/sys/fs/cgroup/cpu/wharf/c1"}
	m, err = FromPaths(cg, v1paths)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Paths(); !maps.Equal(got, v1paths) {
		t.Fatalf("v1 paths %v, want %v", got, v1paths)
	}

	want, wantErr := New(cg)
	for _, bad := range []map[string]string{
		{"": "/sys/fs/cgroup/other"},                    // not this cgroup
		{"memory": "/sys/fs/cgroup/memory/wharf/c2"},    // not this cgroup
		{"memory": "/sys/fs/cgroup/memory/../wharf/c1"}, // not clean
		{"": "/x/wharf/c1", "memory": "/m/wharf/c1"},    // both kinds
	} {
		m, err := FromPaths(cg, bad)
		if (err == nil) != (wantErr == nil) || err == nil && !maps.Equal(m.Paths(), want.Paths()) {
			t.Errorf("FromPaths(%v) = %v, %v; want New's %v, %v", bad, m, err, want, wantErr)
		}
	}
}
