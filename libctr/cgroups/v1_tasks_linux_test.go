package cgroups

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TaskFiles makes the cgroup's directories when they are missing, opens
// one tasks file per directory, and makes again a directory removed since.
func TestV1TaskFilesMakeMissingDirs(t *testing.T) {
	requireV1(t)
	m, err := NewV1(fmt.Sprintf("/wharf-test-tasks-%d", os.Getpid()))
	if err != nil {
		t.Skip("no v1 controllers: ", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.Destroy(ctx); err != nil {
			t.Errorf("destroy: %v", err)
		}
	})
	dirs := map[string]bool{}
	for _, d := range m.Paths() {
		dirs[d] = true
	}
	tm := m.(*v1)
	for round := range 3 {
		if round == 2 {
			if err := unix.Rmdir(m.Paths()["freezer"]); err != nil {
				t.Fatal(err)
			}
		}
		files, err := tm.TaskFiles()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(files) != len(dirs) {
			t.Errorf("round %d: %d files for %d directories", round, len(files), len(dirs))
		}
		for _, f := range files {
			f.Close()
		}
		for d := range dirs {
			if _, err := os.Stat(d + "/tasks"); err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
	}
}
