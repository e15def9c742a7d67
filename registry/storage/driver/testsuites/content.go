package testsuites

import (
	"bytes"
	"io"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

func init() {
	tests = append(tests,
		testCase{"PutGet", testPutGet},
		testCase{"Overwrite", testOverwrite},
		testCase{"BigContent", testBigContent},
		testCase{"ReaderOffsets", testReaderOffsets},
		testCase{"WriterAppend", testWriterAppend},
		testCase{"WriterCancel", testWriterCancel},
		testCase{"WriterClosedStates", testWriterClosedStates},
	)
}

func testPutGet(s *suite) {
	top := s.top()
	p := top + "/a/b/file"
	s.put(p, []byte("hello registry"))
	s.expectContent(p, []byte("hello registry"))

	empty := top + "/empty"
	s.put(empty, nil)
	s.expectContent(empty, []byte{})

	s.expectNotFound(top + "/a/b/missing")
	if _, err := s.d.Reader(s.ctx, top+"/missing", 0); !isErr[driver.PathNotFoundError](err) {
		s.t.Fatalf("Reader of a missing path: got %v, want PathNotFoundError", err)
	}
	// A directory holds no content.
	if _, err := s.d.GetContent(s.ctx, top+"/a"); err == nil {
		s.t.Fatal("GetContent of a directory succeeded")
	}
}

func testOverwrite(s *suite) {
	p := s.top() + "/file"
	s.put(p, randomBytes(1, 4096))
	s.put(p, []byte("short"))
	s.expectContent(p, []byte("short"))
	s.put(p, randomBytes(2, 10000))
	s.expectContent(p, randomBytes(2, 10000))
}

func testBigContent(s *suite) {
	top := s.top()
	big := randomBytes(3, 5<<20+123)
	s.put(top+"/put", big)
	s.expectContent(top+"/put", big)

	// The same through a Writer, in chunks of the size io.Copy uses.
	var chunks [][]byte
	for rest := big; len(rest) > 0; {
		n := min(32<<10, len(rest))
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	s.write(top+"/written", false, true, chunks...)
	s.expectContent(top+"/written", big)
}

func testReaderOffsets(s *suite) {
	p := s.top() + "/file"
	content := randomBytes(4, 1<<20+17)
	s.put(p, content)
	size := int64(len(content))

	for _, off := range []int64{0, 1, size / 2, size - 1, size} {
		rc, err := s.d.Reader(s.ctx, p, off)
		if err != nil {
			s.t.Fatalf("Reader(offset %d): %v", off, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, content[off:]) {
			s.t.Fatalf("Reader(offset %d): read %d bytes (err %v), want the %d bytes from there",
				off, len(got), err, size-off)
		}
	}
	for _, off := range []int64{size + 1, size + 1<<20, -1} {
		rc, err := s.d.Reader(s.ctx, p, off)
		if !isErr[driver.InvalidOffsetError](err) {
			if rc != nil {
				rc.Close()
			}
			s.t.Fatalf("Reader(offset %d) of %d bytes: got %v, want InvalidOffsetError", off, size, err)
		}
	}
}

func testWriterAppend(s *suite) {
	p := s.top() + "/upload/data"
	a, b, c := randomBytes(5, 100_000), randomBytes(6, 3), randomBytes(7, 70_000)

	// First session: write, close without committing.
	s.write(p, false, false, a)
	// Second session continues where the first stopped.
	w, err := s.d.Writer(s.ctx, p, true)
	if err != nil {
		s.t.Fatalf("Writer(append): %v", err)
	}
	if w.Size() != int64(len(a)) {
		s.t.Fatalf("appending Writer.Size = %d, want %d", w.Size(), len(a))
	}
	for _, chunk := range [][]byte{b, c} {
		if _, err := w.Write(chunk); err != nil {
			s.t.Fatalf("Write: %v", err)
		}
	}
	if want := int64(len(a) + len(b) + len(c)); w.Size() != want {
		s.t.Fatalf("Size = %d, want %d", w.Size(), want)
	}
	if err := w.Commit(s.ctx); err != nil {
		s.t.Fatalf("Commit: %v", err)
	}
	if err := w.Close(); err != nil {
		s.t.Fatalf("Close after Commit: %v", err)
	}
	s.expectContent(p, append(append(append([]byte{}, a...), b...), c...))

	// A Writer that does not append starts over.
	s.write(p, false, true, []byte("fresh"))
	s.expectContent(p, []byte("fresh"))
}

func testWriterCancel(s *suite) {
	top := s.top()
	p := top + "/upload/data"
	w, err := s.d.Writer(s.ctx, p, false)
	if err != nil {
		s.t.Fatalf("Writer: %v", err)
	}
	if _, err := w.Write(randomBytes(8, 50_000)); err != nil {
		s.t.Fatalf("Write: %v", err)
	}
	if err := w.Cancel(s.ctx); err != nil {
		s.t.Fatalf("Cancel: %v", err)
	}
	s.expectNotFound(p)

	// Cancel also drops what earlier, closed sessions wrote.
	s.write(p, false, false, []byte("first session"))
	w, err = s.d.Writer(s.ctx, p, true)
	if err != nil {
		s.t.Fatalf("Writer(append): %v", err)
	}
	if _, err := w.Write([]byte("second")); err != nil {
		s.t.Fatalf("Write: %v", err)
	}
	if err := w.Cancel(s.ctx); err != nil {
		s.t.Fatalf("Cancel: %v", err)
	}
	s.expectNotFound(p)
}

// testWriterClosedStates checks that a finished writer refuses more work
// instead of writing to a file that is gone or already durable.
func testWriterClosedStates(s *suite) {
	top := s.top()
	w, err := s.d.Writer(s.ctx, top+"/committed", false)
	if err != nil {
		s.t.Fatalf("Writer: %v", err)
	}
	if err := w.Commit(s.ctx); err != nil {
		s.t.Fatalf("Commit: %v", err)
	}
	if _, err := w.Write([]byte("late")); err == nil {
		s.t.Fatal("Write after Commit succeeded")
	}
	if err := w.Close(); err != nil {
		s.t.Fatalf("Close after Commit: %v", err)
	}
	if _, err := w.Write([]byte("late")); err == nil {
		s.t.Fatal("Write after Close succeeded")
	}
	if err := w.Commit(s.ctx); err == nil {
		s.t.Fatal("Commit after Close succeeded")
	}
	s.expectContent(top+"/committed", []byte{})

	w, err = s.d.Writer(s.ctx, top+"/cancelled", false)
	if err != nil {
		s.t.Fatalf("Writer: %v", err)
	}
	if err := w.Cancel(s.ctx); err != nil {
		s.t.Fatalf("Cancel: %v", err)
	}
	if _, err := w.Write([]byte("late")); err == nil {
		s.t.Fatal("Write after Cancel succeeded")
	}
	if err := w.Commit(s.ctx); err == nil {
		s.t.Fatal("Commit after Cancel succeeded")
	}
	s.expectNotFound(top + "/cancelled")
}
