// Package testsuites is the one conformance suite every storage driver runs.
// A driver package hooks it up with a test and a benchmark:
//
//	func newDriver(tb testing.TB) driver.StorageDriver { return inmemory.New() }
//
//	func TestSuite(t *testing.T)      { testsuites.Run(t, newDriver) }
//	func BenchmarkSuite(b *testing.B) { testsuites.Benchmark(b, newDriver) }
//
// Every test works below its own top-level directory, deletes it when done,
// and then checks that the driver holds nothing else: List("/") must be
// empty (or report the root missing). A driver that leaks files, temp files
// included, fails there.
package testsuites

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

// Constructor returns the driver under test. It is called once per test;
// it may return a fresh driver each time or the same one, since every test
// cleans up after itself.
type Constructor func(tb testing.TB) driver.StorageDriver

// suite is what each test gets: the driver, a context and helpers that
// fail the test on unexpected errors.
type suite struct {
	t   *testing.T
	d   driver.StorageDriver
	ctx context.Context
}

type testCase struct {
	name string
	fn   func(s *suite)
}

// tests lists every test of the suite; the files of this package add theirs.
var tests []testCase

// Run runs the whole suite against the drivers newDriver returns.
func Run(t *testing.T, newDriver Constructor) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &suite{t: t, d: newDriver(t), ctx: context.Background()}
			// Cleanups run last-in first-out: this check runs after the
			// test's own deletes.
			t.Cleanup(s.assertEmpty)
			tc.fn(s)
		})
	}
}

// assertEmpty fails when the driver still holds anything at all.
func (s *suite) assertEmpty() {
	if s.t.Failed() {
		return // the failure already says what went wrong
	}
	left, err := s.d.List(s.ctx, "/")
	if err != nil && !isErr[driver.PathNotFoundError](err) {
		s.t.Fatalf("List(/) after test: %v", err)
	}
	if len(left) > 0 {
		s.t.Fatalf("driver %s did not clean up: left %v", s.d.Name(), left)
	}
}

// top returns a fresh top-level directory for the test and deletes it
// when the test ends.
func (s *suite) top() string {
	p := fmt.Sprintf("/suite-%016x", rand.Uint64())
	s.t.Cleanup(func() {
		if err := s.d.Delete(s.ctx, p); err != nil && !isErr[driver.PathNotFoundError](err) {
			s.t.Errorf("Delete(%s): %v", p, err)
		}
	})
	return p
}

// isErr reports whether err is, or wraps, an error of type E.
func isErr[E error](err error) bool {
	var e E
	return errors.As(err, &e)
}

// randomBytes returns n bytes from a generator seeded with seed, so a
// failure is reproducible.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func (s *suite) put(p string, content []byte) {
	s.t.Helper()
	if err := s.d.PutContent(s.ctx, p, content); err != nil {
		s.t.Fatalf("PutContent(%s): %v", p, err)
	}
}

// expectContent checks GetContent, Stat and a full Reader at p.
func (s *suite) expectContent(p string, want []byte) {
	s.t.Helper()
	got, err := s.d.GetContent(s.ctx, p)
	if err != nil {
		s.t.Fatalf("GetContent(%s): %v", p, err)
	}
	if !bytes.Equal(got, want) {
		s.t.Fatalf("GetContent(%s): got %d bytes, want %d (content differs)", p, len(got), len(want))
	}
	fi, err := s.d.Stat(s.ctx, p)
	if err != nil {
		s.t.Fatalf("Stat(%s): %v", p, err)
	}
	if fi.IsDir() || fi.Size() != int64(len(want)) || fi.Path() != p {
		s.t.Fatalf("Stat(%s) = {path %s size %d dir %v}, want a file of %d bytes",
			p, fi.Path(), fi.Size(), fi.IsDir(), len(want))
	}
	rc, err := s.d.Reader(s.ctx, p, 0)
	if err != nil {
		s.t.Fatalf("Reader(%s, 0): %v", p, err)
	}
	defer rc.Close()
	got, err = io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, want) {
		s.t.Fatalf("Reader(%s, 0): read %d bytes, err %v; want %d bytes", p, len(got), err, len(want))
	}
}

// expectNotFound checks that nothing is stored at p.
func (s *suite) expectNotFound(p string) {
	s.t.Helper()
	if _, err := s.d.Stat(s.ctx, p); !isErr[driver.PathNotFoundError](err) {
		s.t.Fatalf("Stat(%s): got %v, want PathNotFoundError", p, err)
	}
	if _, err := s.d.GetContent(s.ctx, p); !isErr[driver.PathNotFoundError](err) {
		s.t.Fatalf("GetContent(%s): got %v, want PathNotFoundError", p, err)
	}
}

// write writes chunks through a new Writer and commits or just closes it.
func (s *suite) write(p string, appendTo bool, commit bool, chunks ...[]byte) {
	s.t.Helper()
	w, err := s.d.Writer(s.ctx, p, appendTo)
	if err != nil {
		s.t.Fatalf("Writer(%s, %v): %v", p, appendTo, err)
	}
	start := w.Size()
	n := 0
	for _, c := range chunks {
		m, err := w.Write(c)
		n += m
		if err != nil || m != len(c) {
			s.t.Fatalf("Write(%s): %d of %d bytes, %v", p, m, len(c), err)
		}
	}
	if w.Size() != start+int64(n) {
		s.t.Fatalf("Writer(%s).Size = %d after writing %d bytes on top of %d", p, w.Size(), n, start)
	}
	if commit {
		if err := w.Commit(s.ctx); err != nil {
			s.t.Fatalf("Commit(%s): %v", p, err)
		}
	}
	if err := w.Close(); err != nil {
		s.t.Fatalf("Close(%s): %v", p, err)
	}
}
