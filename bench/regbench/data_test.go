package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// The digest of a variant, computed from the saved prefix state, must be
// the digest of the bytes actually sent; otherwise every push would fail
// with DIGEST_INVALID (or, worse, the check would be meaningless).
func TestBigBlobVariantDigest(t *testing.T) {
	b, err := newBigBlob(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, v := range []uint64{0, 1, 2, 1 << 40} {
		d, err := b.variant(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := sha256Digest(b.buf); d != want {
			t.Errorf("variant %d: digest %s, content hashes to %s", v, d, want)
		}
		if seen[d] {
			t.Errorf("variant %d: digest %s repeats an earlier variant", v, d)
		}
		seen[d] = true
	}
	if !bytes.Equal(randomBytes(64, 7), randomBytes(64, 7)) || bytes.Equal(randomBytes(64, 7), randomBytes(64, 8)) {
		t.Error("randomBytes must be deterministic per stream and differ between streams")
	}
}

// The ceiling server must hash what it was sent, serve the last blob back
// and keep nothing else.
func TestCeilingServer(t *testing.T) {
	dir := t.TempDir()
	srv := httptest.NewServer(newCeilingHandler(dir))
	defer srv.Close()
	reg, err := newRegistry(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	blob := randomBytes(3<<20+5, 9)
	if err := reg.pushCeiling(context.Background(), sha256Digest(blob), blob); err != nil {
		t.Fatal(err)
	}
	if err := reg.pushCeiling(context.Background(), sha256Digest(blob[1:]), blob); err == nil {
		t.Error("a wrong digest was not noticed")
	}
	n, err := reg.pull(context.Background(), "/blob")
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(blob)) {
		t.Errorf("pulled %d bytes back, want %d", n, len(blob))
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].Name() != "last" {
		t.Errorf("ceiling keeps %v, want just the last blob", left)
	}
}

// procCPU must find utime and stime past a command name with spaces and
// parentheses; burn some CPU and see it counted.
func TestProcCPU(t *testing.T) {
	before, err := procCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_ = sha256Digest(randomBytes(1<<20, 3))
		now, err := procCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %s after 30 s of hashing", now)
		}
	}
}
