package libctr_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/libctr"
)

// TestPoststartPoststopHooks: poststart runs in the runtime's namespaces
// once the program runs, poststop at Destroy once the container is gone;
// both read the state on stdin.
func TestPoststartPoststopHooks(t *testing.T) {
	dir := t.TempDir()
	hook := func(name string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + filepath.Join(dir, name)}}
	}
	c := testContainer(t, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Poststart: []specs.Hook{hook("poststart")}, Poststop: []specs.Hook{hook("poststop")}}
	}, "sleep", "1000")
	p := &libctr.Process{Process: c.proc}
	if err := c.Run(p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "poststart"))
	if err != nil || !strings.Contains(string(b), `"id":"`+c.ID()+`"`) || !strings.Contains(string(b), `"status":"running"`) {
		t.Fatalf("poststart hook's state: %q (%v)", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "poststop")); err == nil {
		t.Fatal("poststop hook ran before Destroy")
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(filepath.Join(dir, "poststop"))
	if err != nil || !strings.Contains(string(b), `"id":"`+c.ID()+`"`) || !strings.Contains(string(b), `"status":"stopped"`) {
		t.Fatalf("poststop hook's state: %q (%v)", b, err)
	}
}
