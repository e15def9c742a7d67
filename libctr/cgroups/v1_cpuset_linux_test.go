package cgroups

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A container's cpuset gets its parent's cpus and mems, whether the
// parent was made here (and so clones them into its children) or existed
// before (and is left as it was); the hierarchy's root is never changed.
func TestV1CpusetInheritsCpusAndMems(t *testing.T) {
	requireV1(t)
	mounts, err := V1Mounts()
	if err != nil || mounts["cpuset"] == "" {
		t.Skip("no v1 cpuset controller: ", err)
	}
	root := mounts["cpuset"]
	rootClone, err := readFile(root, "cgroup.clone_children")
	if err != nil {
		t.Fatal(err)
	}
	rootCpus, _ := readFile(root, "cpuset.cpus")
	rootMems, _ := readFile(root, "cpuset.mems")

	top := fmt.Sprintf("/wharf-test-cpuset-%d", os.Getpid())
	t.Cleanup(func() {
		// Apply made the levels in every hierarchy.
		for _, mnt := range mounts {
			for _, d := range []string{"made/c2", "made", "old/c1", "old", ""} {
				_ = os.Remove(filepath.Join(mnt, top, d))
			}
		}
		for _, mnt := range mounts {
			if _, err := os.Stat(filepath.Join(mnt, top)); err == nil {
				t.Errorf("left %s", filepath.Join(mnt, top))
			}
		}
	})
	// A parent that existed before, with clone_children off.
	if err := mkdirCpuset(filepath.Join(root, top, "old")); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(filepath.Join(root, top, "old"), "cgroup.clone_children", "0"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, parentClone string }{{top + "/old/c1", "0"}, {top + "/made/c2", "1"}} {
		m, err := NewV1(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Apply(0); err != nil {
			t.Fatal(err)
		}
		dir := m.Paths()["cpuset"]
		cpus, _ := readFile(dir, "cpuset.cpus")
		mems, _ := readFile(dir, "cpuset.mems")
		if cpus != rootCpus || mems != rootMems {
			t.Errorf("%s: cpus %q mems %q, want %q %q", c.path, cpus, mems, rootCpus, rootMems)
		}
		if got, _ := readFile(filepath.Dir(dir), "cgroup.clone_children"); got != c.parentClone {
			t.Errorf("%s: parent's clone_children %q, want %q", c.path, got, c.parentClone)
		}
		if got, _ := readFile(dir, "cgroup.clone_children"); got != "0" {
			t.Errorf("%s: the container's own clone_children %q, want 0", c.path, got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = m.Destroy(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := readFile(root, "cgroup.clone_children"); got != rootClone {
		t.Errorf("the root's clone_children changed: %q, was %q", got, rootClone)
	}
}
