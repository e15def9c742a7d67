// Package archive applies image layers (tar streams) to directories and
// exports directories as tar streams.
//
// A layer is a tar, plain or compressed with gzip or zstd, in which deleted
// paths are marked by whiteouts, as the OCI image spec describes:
//
//	etc/.wh.motd          "etc/motd was deleted in this layer"
//	var/cache/.wh..wh..opq  "var/cache is opaque: hide everything below it
//	                         from lower layers"
//
// Apply writes whiteouts in one of two forms. For a snapshot that is a full
// copy of its parent (native), the deletion is done directly. For an overlay
// upper directory the marker is converted to overlayfs's own form: a 0/0
// character device for a deleted path and the trusted.overlay.opaque=y xattr
// for an opaque directory, so the kernel hides the lower entries.
package archive

import (
	"bufio"
	"bytes"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression names the compression of a stream.
type Compression int

// Known compressions.
const (
	Uncompressed Compression = iota
	Gzip
	Zstd
)

var (
	gzipMagic = []byte{0x1f, 0x8b, 0x08}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// DetectCompression looks at the first bytes of a stream.
func DetectCompression(head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return Gzip
	case bytes.HasPrefix(head, zstdMagic):
		return Zstd
	}
	return Uncompressed
}

// DecompressStream returns a reader of the uncompressed bytes of r, whatever
// of the known compressions r uses.
func DecompressStream(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4) // a short stream is simply uncompressed
	switch DetectCompression(head) {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		return zr, nil
	case Zstd:
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}
