package testsuites

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

func init() {
	tests = append(tests,
		testCase{"ConcurrentWriters", testConcurrentWriters},
		testCase{"ConcurrentPutSamePath", testConcurrentPutSamePath},
	)
}

// runAll runs n workers and returns their errors joined.
func runAll(n int, work func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = work(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func testConcurrentWriters(s *suite) {
	top := s.top()
	const workers, chunks, chunkSize = 8, 32, 16 << 10
	path := func(i int) string { return fmt.Sprintf("%s/upload-%d/data", top, i) }
	err := runAll(workers, func(i int) error {
		w, err := s.d.Writer(s.ctx, path(i), false)
		if err != nil {
			return err
		}
		content := randomBytes(uint64(200+i), chunks*chunkSize)
		for c := range chunks {
			if _, err := w.Write(content[c*chunkSize : (c+1)*chunkSize]); err != nil {
				w.Cancel(s.ctx)
				return err
			}
		}
		if err := w.Commit(s.ctx); err != nil {
			return err
		}
		return w.Close()
	})
	if err != nil {
		s.t.Fatalf("concurrent writers: %v", err)
	}
	for i := range workers {
		s.expectContent(path(i), randomBytes(uint64(200+i), chunks*chunkSize))
	}
}

// sameByteContent is writer i's content: byte i repeated, with a length
// of its own, so a reader can tell whole content from a mix or a part.
func sameByteContent(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 64<<10+i*4099) }

func checkWhole(got []byte) error {
	if len(got) == 0 {
		return errors.New("read empty content")
	}
	i := int(got[0] - 'a')
	if i < 0 || i > 25 || !bytes.Equal(got, sameByteContent(i)) {
		return fmt.Errorf("read %d bytes that are not one writer's whole content", len(got))
	}
	return nil
}

func testConcurrentPutSamePath(s *suite) {
	p := s.top() + "/tags/latest/current/link"
	s.put(p, sameByteContent(0))
	const writers, readers, rounds = 4, 4, 25
	err := runAll(writers+readers, func(i int) error {
		for range rounds {
			if i < writers {
				if err := s.d.PutContent(s.ctx, p, sameByteContent(i)); err != nil {
					return err
				}
				continue
			}
			got, err := s.d.GetContent(s.ctx, p)
			if err != nil {
				return fmt.Errorf("GetContent: %w", err)
			}
			if err := checkWhole(got); err != nil {
				return fmt.Errorf("GetContent: %w", err)
			}
			rc, err := s.d.Reader(s.ctx, p, 0)
			if err != nil {
				return fmt.Errorf("Reader: %w", err)
			}
			got, err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return fmt.Errorf("Reader: %w", err)
			}
			if err := checkWhole(got); err != nil {
				return fmt.Errorf("Reader: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		s.t.Fatalf("concurrent PutContent: %v", err)
	}
	got, err := s.d.GetContent(s.ctx, p)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := checkWhole(got); err != nil {
		s.t.Fatal(err)
	}
	s.expectList(p[:len(p)-len("/link")], p)
}
