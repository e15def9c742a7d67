// Package jsonlite reads and writes JSON without reflection, for the few
// types every `wharf runtime` command decodes or encodes once: a
// container's state.json (libctr.State, configs.Config, configs.Process).
//
// Why: each runtime command is a new process, and encoding/json's first
// use of a struct type builds its field table by reflection (typeFields,
// and the encoders of every field's type, recursively). For the config's
// twenty-odd types that was about 0.3-0.5 ms of every pause, resume,
// state, kill, start and delete: more than the work they do. Code written
// against this package does the same job in microseconds.
//
// It is not a general JSON library. A Reader handles exactly what the
// callers' own writers and encoding/json produce; anything else it is not
// sure of (an escape in a string, an unknown key, a number that does not
// fit) makes it fail with ErrFallback, and the caller then decodes the same
// bytes with encoding/json, so the result, or the error, is always what
// encoding/json would give. A Writer produces byte for byte what
// json.Marshal would; the callers' tests hold them to that.
package jsonlite

import (
	"errors"
	"iter"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrFallback is what a Reader fails with on input it does not handle
// itself: decode it with encoding/json instead.
var ErrFallback = errors.New("jsonlite: input needs encoding/json")

// Reader decodes one JSON value from b. Its methods read the next value
// into their argument; after the first failure they do nothing, and Err
// tells the failure.
type Reader struct {
	b   []byte
	i   int
	err error
}

// NewReader returns a Reader of b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err is the first failure, or nil.
func (r *Reader) Err() error { return r.err }

// Fail records a failure (the first one wins).
func (r *Reader) Fail() {
	if r.err == nil {
		r.err = ErrFallback
	}
}

// End fails unless only white space is left.
func (r *Reader) End() error {
	if r.err == nil {
		r.skipSpace()
		if r.i < len(r.b) {
			r.Fail()
		}
	}
	return r.err
}

func (r *Reader) skipSpace() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end or after a failure.
func (r *Reader) peek() byte {
	if r.err != nil {
		return 0
	}
	r.skipSpace()
	if r.i >= len(r.b) {
		return 0
	}
	return r.b[r.i]
}

func (r *Reader) expect(c byte) bool {
	if r.peek() != c {
		r.Fail()
		return false
	}
	r.i++
	return true
}

// Null consumes a null and reports whether there was one.
func (r *Reader) Null() bool {
	if r.peek() == 'n' && len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "null" {
		r.i += 4
		return true
	}
	return false
}

// Object yields the keys of an object; the loop body must read each key's
// value. A null yields nothing.
func (r *Reader) Object() iter.Seq[string] {
	return func(yield func(string) bool) {
		if r.Null() || !r.expect('{') {
			return
		}
		if r.peek() == '}' {
			r.i++
			return
		}
		for r.err == nil {
			key, ok := r.str()
			if !ok || !r.expect(':') || !yield(key) {
				return
			}
			switch r.peek() {
			case ',':
				r.i++
			case '}':
				r.i++
				return
			default:
				r.Fail()
			}
		}
	}
}

// Array yields once per element of an array; the loop body must read the
// element. Callers check for null first (Null) when it means nil.
func (r *Reader) Array() iter.Seq[int] {
	return func(yield func(int) bool) {
		if !r.expect('[') {
			return
		}
		if r.peek() == ']' {
			r.i++
			return
		}
		for n := 0; r.err == nil; n++ {
			if !yield(n) {
				return
			}
			switch r.peek() {
			case ',':
				r.i++
			case ']':
				r.i++
				return
			default:
				r.Fail()
			}
		}
	}
}

// str reads a string without escapes, of valid UTF-8 (which
// encoding/json keeps as it is); anything else is left to encoding/json.
func (r *Reader) str() (string, bool) {
	if !r.expect('"') {
		return "", false
	}
	ascii := true
	for j := r.i; j < len(r.b); j++ {
		c := r.b[j]
		if c == '"' {
			seg := r.b[r.i:j]
			if !ascii && !utf8.Valid(seg) {
				break // encoding/json replaces the bad bytes
			}
			r.i = j + 1
			return string(seg), true
		}
		if c < 0x20 || c == '\\' {
			break
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	r.Fail()
	return "", false
}

// String reads a string into *v; a null leaves it.
func String[S ~string](r *Reader, v *S) {
	if r.Null() {
		return
	}
	if s, ok := r.str(); ok {
		*v = S(s)
	}
}

// Decode reads all of b into *v with read (a method expression such as
// (*Config).ReadJSON), and reports whether it could;
// if not, *v is left as it was, for the caller to decode b with
// encoding/json (which gives the result, or the error, this package is
// not sure of).
func Decode[T any](b []byte, v *T, read func(*T, *Reader)) bool {
	r := NewReader(b)
	tmp := *v
	read(&tmp, r)
	if r.End() != nil {
		return false
	}
	*v = tmp
	return true
}

// Strings reads an array of strings (or null) into v.
func Strings(r *Reader, v *[]string) { Slice(r, v, String[string]) }

// Bool reads true or false into *v; a null leaves it.
func (r *Reader) Bool(v *bool) {
	switch {
	case r.Null():
	case r.peek() == 't' && len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "true":
		r.i += 4
		*v = true
	case r.peek() == 'f' && len(r.b)-r.i >= 5 && string(r.b[r.i:r.i+5]) == "false":
		r.i += 5
		*v = false
	default:
		r.Fail()
	}
}

// number returns the next number's text: digits (no leading zero) with an
// optional minus sign (fractions and exponents are encoding/json's
// business).
func (r *Reader) number() string {
	if r.peek() == 0 {
		r.Fail()
		return ""
	}
	j := r.i
	if j < len(r.b) && r.b[j] == '-' {
		j++
	}
	for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
		j++
	}
	s := string(r.b[r.i:j])
	r.i = j
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || len(digits) > 1 && digits[0] == '0' || r.i < len(r.b) && (r.b[r.i] == '.' || r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.Fail()
	}
	return s
}

// Signed is what Int reads.
type Signed interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64
}

// Unsigned is what Uint reads.
type Unsigned interface {
	~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// Int reads an integer into *v; a null leaves it.
func Int[T Signed](r *Reader, v *T) {
	if r.Null() {
		return
	}
	s := r.number()
	n, err := strconv.ParseInt(s, 10, 64)
	if r.err != nil || err != nil || int64(T(n)) != n {
		r.Fail()
		return
	}
	*v = T(n)
}

// Uint reads an unsigned integer into *v; a null leaves it.
func Uint[T Unsigned](r *Reader, v *T) {
	if r.Null() {
		return
	}
	s := r.number()
	n, err := strconv.ParseUint(s, 10, 64)
	if r.err != nil || err != nil || uint64(T(n)) != n {
		r.Fail()
		return
	}
	*v = T(n)
}

// Ptr reads a value into *p with read, allocating it; a null sets nil.
// As encoding/json does, an existing pointee is decoded into.
func Ptr[T any](r *Reader, p **T, read func(*Reader, *T)) {
	if r.Null() {
		*p = nil
		return
	}
	if *p == nil {
		*p = new(T)
	}
	read(r, *p)
}

// Slice reads an array into *s, one element with read each; a null sets
// nil and [] an empty slice, as encoding/json does.
func Slice[T any](r *Reader, s *[]T, read func(*Reader, *T)) {
	if r.Null() {
		*s = nil
		return
	}
	out := []T{}
	for range r.Array() {
		var v T
		read(r, &v)
		out = append(out, v)
	}
	if r.err == nil {
		*s = out
	}
}

// Map reads an object into *m, adding to it as encoding/json does; a
// null sets nil.
func Map[T any](r *Reader, m *map[string]T, read func(*Reader, *T)) {
	if r.Null() {
		*m = nil
		return
	}
	if *m == nil {
		*m = map[string]T{}
	}
	for k := range r.Object() {
		var v T
		read(r, &v)
		if r.err == nil {
			(*m)[k] = v
		}
	}
}

// Raw returns the next value's bytes unparsed (for a type that decodes
// itself, such as time.Time).
func (r *Reader) Raw() []byte {
	c := r.peek()
	start := r.i
	switch c {
	case '"':
		r.i++
		for r.i < len(r.b) && r.b[r.i] != '"' {
			if r.b[r.i] == '\\' {
				r.i++
			}
			r.i++
		}
		if r.i >= len(r.b) {
			r.Fail()
			return nil
		}
		r.i++
	case 'n':
		r.Null()
	default:
		r.Fail() // only what the callers need
		return nil
	}
	return r.b[start:r.i]
}
