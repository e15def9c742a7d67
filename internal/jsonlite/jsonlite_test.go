package jsonlite

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// A string the Reader takes is the one encoding/json decodes; Writer
// writes every string as json.Marshal does.
func TestStringsMatchEncodingJSON(t *testing.T) {
	words := []string{"", "a", "/bin/sh", "<&>", `"`, `\`, "\n", "\t", "\x00", "\x1f", "\x7f", "é", "ü日本", "\xff", "\xc3", "\u2028", "\u2029", "\U0001F600", "\ufffd"}
	rnd := rand.New(rand.NewPCG(1, 2))
	var inputs []string
	inputs = append(inputs, words...)
	for range 2000 {
		var b strings.Builder
		for range rnd.IntN(5) {
			b.WriteString(words[rnd.IntN(len(words))])
		}
		inputs = append(inputs, b.String())
	}
	for c := range 256 {
		inputs = append(inputs, string([]byte{byte(c)}))
	}
	for _, s := range inputs {
		want, _ := json.Marshal(s)
		w := &Writer{}
		w.String(s)
		if string(w.B) != string(want) {
			t.Fatalf("Writer.String(%q) = %s, want %s", s, w.B, want)
		}
		// The reader, on the escaped form and on the raw bytes quoted.
		for _, tok := range []string{string(want), `"` + s + `"`} {
			var std string
			stdErr := json.Unmarshal([]byte(tok), &std)
			r := NewReader([]byte(tok))
			var got string
			String(r, &got)
			if r.End() != nil {
				// Left to encoding/json, which may only be for escapes
				// and invalid UTF-8: a plain string is the Reader's to take.
				if plainToken(tok) {
					t.Fatalf("Reader gave up on %q, a string without escapes", tok)
				}
				continue
			}
			if stdErr != nil || got != std {
				t.Fatalf("Reader on %q: %q, want %q (%v)", tok, got, std, stdErr)
			}
		}
	}
}

// plainToken reports whether tok is one quoted string of valid UTF-8
// with no escape and no control character: what the Reader reads itself.
func plainToken(tok string) bool {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return false
	}
	in := tok[1 : len(tok)-1]
	return utf8.ValidString(in) && !strings.ContainsFunc(in, func(c rune) bool { return c < 0x20 || c == '"' || c == '\\' })
}

// Numbers, booleans and nulls: the Reader takes what encoding/json takes
// into the same types, and gives up on the rest.
func TestScalars(t *testing.T) {
	for _, in := range []string{"0", "-1", "42", "255", "256", "-129", "65535", "65536", "4294967295", "4294967296",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551615", "18446744073709551616",
		"1.0", "1e3", "-", "01", "null", "true", "false", "tru", "nul", `"1"`, " 7 ", ""} {
		check := func(name string, fast func(*Reader) any, std func() (any, error)) {
			t.Helper()
			r := NewReader([]byte(in))
			got := fast(r)
			want, err := std()
			if r.End() != nil {
				// Every one of these inputs that encoding/json takes
				// into the type is plain enough for the Reader.
				if err == nil {
					t.Errorf("%s(%q): the Reader gave up on what encoding/json reads as %v", name, in, want)
				}
				return
			}
			if err != nil || got != want {
				t.Errorf("%s(%q) = %v, want %v (%v)", name, in, got, want, err)
			}
		}
		check("Int[int8]", func(r *Reader) any { var v int8 = 5; Int(r, &v); return v }, func() (any, error) { var v int8 = 5; err := json.Unmarshal([]byte(in), &v); return v, err })
		check("Int[int64]", func(r *Reader) any { var v int64 = 5; Int(r, &v); return v }, func() (any, error) { var v int64 = 5; err := json.Unmarshal([]byte(in), &v); return v, err })
		check("Uint[uint16]", func(r *Reader) any { var v uint16 = 5; Uint(r, &v); return v }, func() (any, error) { var v uint16 = 5; err := json.Unmarshal([]byte(in), &v); return v, err })
		check("Uint[uint64]", func(r *Reader) any { var v uint64 = 5; Uint(r, &v); return v }, func() (any, error) { var v uint64 = 5; err := json.Unmarshal([]byte(in), &v); return v, err })
		check("Bool", func(r *Reader) any { v := true; r.Bool(&v); return v }, func() (any, error) { v := true; err := json.Unmarshal([]byte(in), &v); return v, err })
	}
}

// The member writers are encoding/json's fields, with and without
// omitempty, for empty values and others.
func TestMembersMatchEncodingJSON(t *testing.T) {
	type fields struct {
		S   string   `json:"s"`
		SO  string   `json:"so,omitempty"`
		L   []string `json:"l"`
		LO  []string `json:"lo,omitempty"`
		I   int64    `json:"i"`
		IO  int64    `json:"io,omitempty"`
		U   uint64   `json:"u"`
		UO  uint64   `json:"uo,omitempty"`
		B   bool     `json:"b"`
		BO  bool     `json:"bo,omitempty"`
		End string   `json:"end"`
	}
	for _, v := range []fields{
		{},
		{L: []string{}, LO: []string{}},
		{S: "a<b", SO: "x", L: []string{"1", ""}, LO: []string{"\n"}, I: -3, IO: 9, U: 1 << 63, UO: 1, B: true, BO: true, End: "e"},
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		w := &Writer{}
		w.Open('{')
		w.StringMember("s", v.S, KeepEmpty)
		w.StringMember("so", v.SO, OmitEmpty)
		w.StringsMember("l", v.L, KeepEmpty)
		w.StringsMember("lo", v.LO, OmitEmpty)
		w.IntMember("i", v.I, KeepEmpty)
		w.IntMember("io", v.IO, OmitEmpty)
		w.UintMember("u", v.U, KeepEmpty)
		w.UintMember("uo", v.UO, OmitEmpty)
		w.BoolMember("b", v.B, KeepEmpty)
		w.BoolMember("bo", v.BO, OmitEmpty)
		w.StringMember("end", v.End, KeepEmpty)
		w.Close('}')
		if string(w.B) != string(want) {
			t.Errorf("members of %+v:\n got %s\nwant %s", v, w.B, want)
		}
	}
}
