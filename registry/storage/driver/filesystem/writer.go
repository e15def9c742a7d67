package filesystem

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

// writeBufferSize is how much a Writer gathers before one write(2): an
// upload arrives in reads of a few KiB from the network.
const writeBufferSize = 256 << 10

// buffers recycles write buffers between Writers, so a small write does
// not cost a large allocation.
var buffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufferSize) }}

var (
	errClosed    = errors.New(DriverName + ": writer already closed")
	errCommitted = errors.New(DriverName + ": writer already committed")
	errCancelled = errors.New(DriverName + ": writer already cancelled")
)

// Writer implements driver.StorageDriver. It writes straight into the file
// at p, as distribution does; uploads write to paths of their own and Move
// the result into place.
func (d *Driver) Writer(_ context.Context, p string, append bool) (driver.FileWriter, error) {
	if err := checkFile(p); err != nil {
		return nil, err
	}
	full := d.fullPath(p)
	flags := os.O_WRONLY | os.O_CREATE
	if !append {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(full, flags, 0o666)
	if err != nil && errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(full), 0o777); err == nil {
			f, err = os.OpenFile(full, flags, 0o666)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: writer %s: %w", DriverName, p, err)
	}
	var size int64
	if append {
		if size, err = f.Seek(0, io.SeekEnd); err != nil {
			f.Close()
			return nil, err
		}
	}
	w := &fileWriter{raw: rawFile{f: f, off: size, started: size}, size: size, bw: buffers.Get().(*bufio.Writer)}
	w.bw.Reset(&w.raw)
	return w, nil
}

// rawFile hides *os.File's ReadFrom from bufio, so ReadFrom fills our
// buffer instead of handing the file 32 KiB writes. It also starts the
// kernel's writeback of every writebackSpan written, so that the fdatasync
// at Commit waits only for the tail instead of the whole file.
type rawFile struct {
	f       *os.File
	off     int64 // bytes in the file
	started int64 // writeback started up to here
}

// writebackSpan is how much is written before writeback of it starts.
const writebackSpan = 8 << 20

func (r *rawFile) Write(p []byte) (int, error) {
	n, err := r.f.Write(p)
	r.off += int64(n)
	if r.off-r.started >= writebackSpan {
		startWriteback(r.f, r.started, r.off-r.started)
		r.started = r.off
	}
	return n, err
}

type fileWriter struct {
	raw  rawFile
	bw   *bufio.Writer // nil once the session ended
	size int64
	done error // why writing has ended, nil while it has not
}

func (w *fileWriter) Write(p []byte) (int, error) {
	if w.done != nil {
		return 0, w.done
	}
	n, err := w.bw.Write(p)
	w.size += int64(n)
	return n, err
}

// ReadFrom reads r into the write buffer directly, saving io.Copy's copy.
func (w *fileWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.done != nil {
		return 0, w.done
	}
	n, err := w.bw.ReadFrom(r)
	w.size += n
	return n, err
}

func (w *fileWriter) Size() int64 { return w.size }

// finish flushes (unless dropping), returns the buffer and closes the file.
func (w *fileWriter) finish(flush, sync bool) error {
	var err error
	if flush {
		err = w.bw.Flush()
	}
	if err == nil && sync {
		err = syncData(w.raw.f)
	}
	w.bw.Reset(nil)
	buffers.Put(w.bw)
	w.bw = nil
	if cerr := w.raw.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close ends the session and keeps the content for an appending Writer.
// After Commit or Cancel it has nothing left to do.
func (w *fileWriter) Close() error {
	switch w.done {
	case nil:
		w.done = errClosed
		return w.finish(true, false)
	case errClosed:
		return errClosed
	}
	return nil
}

// Commit flushes the content and makes it durable with one fdatasync.
func (w *fileWriter) Commit(context.Context) error {
	if w.done != nil {
		return w.done
	}
	w.done = errCommitted
	return w.finish(true, true)
}

// Cancel drops the buffer and removes the file.
func (w *fileWriter) Cancel(context.Context) error {
	if w.done != nil {
		return w.done
	}
	w.done = errCancelled
	w.finish(false, false)
	if err := os.Remove(w.raw.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

var (
	_ driver.FileWriter = (*fileWriter)(nil)
	_ io.ReaderFrom     = (*fileWriter)(nil)
)
