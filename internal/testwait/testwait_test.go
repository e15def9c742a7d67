package testwait

import (
	"sync/atomic"
	"testing"
)

// TestForReturnsOnceTrue: cond is asked again until it holds, and For
// returns then without failing. (The failing side waits the full 30 s
// deadline, too long to test here.)
func TestForReturnsOnceTrue(t *testing.T) {
	var calls atomic.Int32
	For(t, "the third call", func() bool { return calls.Add(1) == 3 })
	if n := calls.Load(); n != 3 {
		t.Fatalf("cond called %d times, want 3", n)
	}
}
