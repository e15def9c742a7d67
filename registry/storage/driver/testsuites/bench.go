package testsuites

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

var benchSizes = []struct {
	name string
	size int
}{{"1KiB", 1 << 10}, {"16MiB", 16 << 20}}

// Benchmark measures the calls the registry makes most: PutContent and
// GetContent (links, manifests), a Writer fed in io.Copy-sized chunks
// (blob uploads) and a Reader read to the end (blob downloads).
func Benchmark(b *testing.B, newDriver Constructor) {
	for _, sz := range benchSizes {
		b.Run("PutContent/"+sz.name, func(b *testing.B) { benchPut(b, newDriver(b), sz.size) })
		b.Run("GetContent/"+sz.name, func(b *testing.B) { benchGet(b, newDriver(b), sz.size) })
		b.Run("Writer/"+sz.name, func(b *testing.B) { benchWriter(b, newDriver(b), sz.size) })
		b.Run("Reader/"+sz.name, func(b *testing.B) { benchReader(b, newDriver(b), sz.size) })
	}
}

func benchDir(b *testing.B, d driver.StorageDriver) string {
	dir := fmt.Sprintf("/bench-%s", b.Name())
	dir = sanitize(dir)
	b.Cleanup(func() { d.Delete(context.Background(), dir) })
	return dir
}

// sanitize keeps a benchmark name within the driver path alphabet.
func sanitize(p string) string {
	out := []byte(p)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' && i == 0) {
			out[i] = '-'
		}
	}
	return string(out)
}

func benchPut(b *testing.B, d driver.StorageDriver, size int) {
	ctx, p := context.Background(), benchDir(b, d)+"/file"
	content := randomBytes(1, size)
	b.SetBytes(int64(size))
	for b.Loop() {
		if err := d.PutContent(ctx, p, content); err != nil {
			b.Fatal(err)
		}
	}
}

func benchGet(b *testing.B, d driver.StorageDriver, size int) {
	ctx, p := context.Background(), benchDir(b, d)+"/file"
	if err := d.PutContent(ctx, p, randomBytes(1, size)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		if got, err := d.GetContent(ctx, p); err != nil || len(got) != size {
			b.Fatal(len(got), err)
		}
	}
}

func benchWriter(b *testing.B, d driver.StorageDriver, size int) {
	ctx, p := context.Background(), benchDir(b, d)+"/data"
	content := randomBytes(1, size)
	b.SetBytes(int64(size))
	for b.Loop() {
		w, err := d.Writer(ctx, p, false)
		if err != nil {
			b.Fatal(err)
		}
		for rest := content; len(rest) > 0; {
			n := min(32<<10, len(rest))
			if _, err := w.Write(rest[:n]); err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := w.Commit(ctx); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchReader(b *testing.B, d driver.StorageDriver, size int) {
	ctx, p := context.Background(), benchDir(b, d)+"/data"
	if err := d.PutContent(ctx, p, randomBytes(1, size)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		rc, err := d.Reader(ctx, p, 0)
		if err != nil {
			b.Fatal(err)
		}
		// io.Discard, like a response writer, takes what the reader offers.
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != int64(size) {
			b.Fatal(n, err)
		}
	}
}
