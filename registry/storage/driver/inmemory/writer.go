package inmemory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

// writer appends to a file node in place, as the filesystem driver writes
// to its file: what is written is visible at the path at once.
type writer struct {
	d    *Driver
	path string
	n    *node
	size int64
	done error // set once committed, cancelled or closed: why writing ends
}

var (
	errClosed    = errors.New(DriverName + ": writer already closed")
	errCommitted = errors.New(DriverName + ": writer already committed")
	errCancelled = errors.New(DriverName + ": writer already cancelled")
)

// Writer implements driver.StorageDriver.
func (d *Driver) Writer(_ context.Context, p string, append bool) (driver.FileWriter, error) {
	if err := checkFile(p); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.find(p)
	switch {
	case n == nil:
		n = &node{modTime: time.Now()}
		if err := d.put(p, n); err != nil {
			return nil, err
		}
	case n.isDir():
		return nil, fmt.Errorf("%s: cannot write %s: it is a directory", DriverName, p)
	case !append:
		// A fresh slice: readers of the old content keep theirs.
		n.data, n.modTime = nil, time.Now()
	}
	return &writer{d: d, path: p, n: n, size: int64(len(n.data))}, nil
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done != nil {
		return 0, w.done
	}
	w.d.mu.Lock()
	if len(w.n.data)+len(p) > cap(w.n.data) {
		// Double, as append does only for small slices: an upload of
		// many MiB then costs one copy of itself, not several.
		grown := make([]byte, len(w.n.data), max(2*cap(w.n.data), len(w.n.data)+len(p)))
		copy(grown, w.n.data)
		w.n.data = grown
	}
	w.n.data = append(w.n.data, p...)
	w.n.modTime = time.Now()
	w.d.mu.Unlock()
	w.size += int64(len(p))
	return len(p), nil
}

func (w *writer) Size() int64 { return w.size }

// Close ends the session; the content stays for a later appending Writer.
func (w *writer) Close() error {
	switch w.done {
	case errClosed:
		return errClosed
	case nil:
		w.done = errClosed
	}
	return nil
}

// Commit has nothing to flush: memory is as durable as this driver gets.
func (w *writer) Commit(context.Context) error {
	if w.done != nil {
		return w.done
	}
	w.done = errCommitted
	return nil
}

// Cancel removes the file, unless it was replaced since this writer opened it.
func (w *writer) Cancel(context.Context) error {
	if w.done == errClosed || w.done == errCommitted {
		return w.done
	}
	w.done = errCancelled
	w.d.mu.Lock()
	defer w.d.mu.Unlock()
	if w.d.find(w.path) == w.n {
		w.d.detach(w.path)
	}
	return nil
}

var _ driver.FileWriter = (*writer)(nil)
