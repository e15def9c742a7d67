// Package testwait is how tests wait for something another process or
// goroutine does: poll a condition with a generous deadline and fail only
// when the deadline passes, never sleep a guessed time.
//
//	testwait.For(t, "the socket to refuse connections", func() bool {
//		_, err := net.Dial("unix", sock)
//		return err != nil
//	})
package testwait

import (
	"testing"
	"time"
)

// Deadline is how long For waits: long enough for a loaded 2-core CI
// machine, so that only a real hang fails.
const Deadline = 30 * time.Second

// For calls cond every 10 ms until it returns true, and fails the test
// ("timed out after 30s waiting for <what>") when Deadline passes first.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Deadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", Deadline, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
