package engine

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// runWharf runs the wharf binary to completion (for commands that should
// fail fast, like a daemon with a bad configuration).
func runWharf(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, wharfBin, args...).CombinedOutput()
	return string(out), err
}
