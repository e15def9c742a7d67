package main

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math/rand/v2"
)

// seed makes every run push the same bytes, so two runs (or two servers in
// one run) see identical content.
const seed = 0x77686172665f6267 // "wharf_bg"

// randomBytes fills n bytes from a ChaCha8 stream keyed by (seed, stream):
// deterministic, incompressible and fast to generate (several GB/s).
func randomBytes(n int, stream uint64) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:], seed)
	binary.LittleEndian.PutUint64(key[8:], stream)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b) // ChaCha8.Read never fails
	return b
}

// bigBlob is one large random buffer that stands in for many distinct blobs.
// Variant v is the buffer with its last 8 bytes set to v, so every push can
// send fresh content (no server can short-cut a blob it already has) while
// the data is generated and hashed only once: the sha256 state after the
// shared prefix is saved and each variant's digest costs one 8-byte update.
//
// Variants share the buffer, so only one may be in flight at a time.
type bigBlob struct {
	buf    []byte
	prefix []byte // marshaled sha256 state after buf[:len(buf)-8]
}

func newBigBlob(size int) (*bigBlob, error) {
	if size < 16 {
		return nil, fmt.Errorf("blob size %d too small", size)
	}
	buf := randomBytes(size, 1)
	h := sha256.New()
	h.Write(buf[:size-8])
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("save sha256 state: %w", err)
	}
	return &bigBlob{buf: buf, prefix: state}, nil
}

// variant switches the buffer to variant v and returns its digest.
func (b *bigBlob) variant(v uint64) (string, error) {
	tail := b.buf[len(b.buf)-8:]
	binary.BigEndian.PutUint64(tail, v)
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(b.prefix); err != nil {
		return "", fmt.Errorf("restore sha256 state: %w", err)
	}
	h.Write(tail)
	return digestOf(h), nil
}

func digestOf(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
