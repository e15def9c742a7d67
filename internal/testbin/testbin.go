// Package testbin builds the wharf binary that integration tests run: once
// per test binary, into a temp dir that Run removes at the end.
//
//	func TestMain(m *testing.M) { os.Exit(testbin.Run(m)) }
//
//	bin, err := testbin.Wharf() // in a test or in TestMain
//
// $WHARF_BINARY names a prebuilt binary to use instead; $WHARF_TEST_RACE
// (any value) builds it with the race detector, for a manual check.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Wharf returns the path of a wharf binary: $WHARF_BINARY if set, else one
// built from this module with `go build` the first time it is asked for.
func Wharf() (string, error) {
	if p := os.Getenv("WHARF_BINARY"); p != "" {
		return p, nil
	}
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "wharf-testbin-")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "wharf")
		args := []string{"build", "-o", build.path}
		if os.Getenv("WHARF_TEST_RACE") != "" {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "github.com/wharf-project/wharf/cmd/wharf")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build wharf: %v\n%s", err, out)
		}
	})
	return build.path, build.err
}

// Run runs the tests and removes the binary Wharf built; use it from
// TestMain.
func Run(m *testing.M) int {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	return code
}
