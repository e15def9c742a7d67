package image

import (
	"archive/tar"
	"bytes"
	"testing"
)

// oversizeTar is a tar whose manifest.json is larger than a load accepts.
func oversizeTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := bytes.Repeat([]byte(" "), maxMetaFile+1)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write(body)
	tw.Close()
	return buf.Bytes()
}
