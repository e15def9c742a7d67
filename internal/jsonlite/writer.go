package jsonlite

// The Writer: JSON appended to a byte slice, byte for byte as json.Marshal
// writes it, by code that walks the struct as encoding/json would.

import (
	"encoding/json"
	"slices"
	"strconv"
)

// Writer appends JSON to B, byte for byte as json.Marshal writes it.
type Writer struct {
	B []byte
}

// comma separates a value from the one before it in an object or array.
func (w *Writer) comma() {
	if n := len(w.B); n > 0 && w.B[n-1] != '{' && w.B[n-1] != '[' && w.B[n-1] != ':' {
		w.B = append(w.B, ',')
	}
}

// Open starts an object or array (c is '{' or '[').
func (w *Writer) Open(c byte) {
	w.comma()
	w.B = append(w.B, c)
}

// Close ends an object or array.
func (w *Writer) Close(c byte) { w.B = append(w.B, c) }

// Key starts a member; key is printable ASCII needing no escape.
func (w *Writer) Key(key string) {
	w.comma()
	w.B = append(w.B, '"')
	w.B = append(w.B, key...)
	w.B = append(w.B, '"', ':')
}

// String writes a string, escaped as encoding/json escapes it (HTML
// characters included).
func (w *Writer) String(s string) {
	w.comma()
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // never fails for a string
			w.B = append(w.B, b...)
			return
		}
	}
	w.B = append(w.B, '"')
	w.B = append(w.B, s...)
	w.B = append(w.B, '"')
}

// Int writes a signed integer.
func (w *Writer) Int(n int64) {
	w.comma()
	w.B = strconv.AppendInt(w.B, n, 10)
}

// Uint writes an unsigned integer.
func (w *Writer) Uint(n uint64) {
	w.comma()
	w.B = strconv.AppendUint(w.B, n, 10)
}

// Bool writes true or false.
func (w *Writer) Bool(b bool) {
	w.comma()
	w.B = strconv.AppendBool(w.B, b)
}

// Null writes null.
func (w *Writer) Null() {
	w.comma()
	w.B = append(w.B, "null"...)
}

// Raw writes a value encoded elsewhere (such as time.Time's MarshalJSON).
func (w *Writer) Raw(b []byte) {
	w.comma()
	w.B = append(w.B, b...)
}

// WriteSlice writes s as an array, or null when nil, as encoding/json does.
func WriteSlice[T any](w *Writer, s []T, write func(*Writer, T)) {
	if s == nil {
		w.Null()
		return
	}
	w.Open('[')
	for _, v := range s {
		write(w, v)
	}
	w.Close(']')
}

// WriteMap writes m as an object with its keys sorted, or null when nil.
func WriteMap[T any](w *Writer, m map[string]T, write func(*Writer, T)) {
	if m == nil {
		w.Null()
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.Open('{')
	for _, k := range keys {
		w.String(k)
		w.B = append(w.B, ':')
		write(w, m[k])
	}
	w.Close('}')
}

// Omit is the ",omitempty" of a struct tag, for the member writers below
// (a member being a key and its value in an object). Each one mirrors a
// field and its tag:
//
//	Rootfs   string `json:"rootfs"`             w.StringMember("rootfs", c.Rootfs, jsonlite.KeepEmpty)
//	Hostname string `json:"hostname,omitempty"` w.StringMember("hostname", c.Hostname, jsonlite.OmitEmpty)
//
// As in encoding/json, empty is the zero number, false, "" and a nil or
// empty slice. A nil pointer is empty too, but a pointer's value is not,
// so a *int field with omitempty is written as
// `if p != nil { w.IntMember(key, int64(*p), jsonlite.KeepEmpty) }`.
type Omit bool

// The two values of Omit.
const (
	KeepEmpty Omit = false // no omitempty: the member is always written
	OmitEmpty Omit = true  // ",omitempty": left out when its value is empty
)

// StringMember writes the member key: s, but none when omit is OmitEmpty
// and s is "". The key, as for Key, is printable ASCII needing no escape.
func (w *Writer) StringMember(key, s string, omit Omit) {
	if omit == KeepEmpty || s != "" {
		w.Key(key)
		w.String(s)
	}
}

// StringsMember writes the member key: s, an array or, when s is nil,
// null; but none when omit is OmitEmpty and s has no elements.
func (w *Writer) StringsMember(key string, s []string, omit Omit) {
	if omit == KeepEmpty || len(s) > 0 {
		w.Key(key)
		WriteSlice(w, s, (*Writer).String)
	}
}

// IntMember writes the member key: n, but none when omit is OmitEmpty and
// n is 0.
func (w *Writer) IntMember(key string, n int64, omit Omit) {
	if omit == KeepEmpty || n != 0 {
		w.Key(key)
		w.Int(n)
	}
}

// UintMember writes the member key: n, but none when omit is OmitEmpty and
// n is 0.
func (w *Writer) UintMember(key string, n uint64, omit Omit) {
	if omit == KeepEmpty || n != 0 {
		w.Key(key)
		w.Uint(n)
	}
}

// BoolMember writes the member key: b, but none when omit is OmitEmpty and
// b is false.
func (w *Writer) BoolMember(key string, b bool, omit Omit) {
	if omit == KeepEmpty || b {
		w.Key(key)
		w.Bool(b)
	}
}
