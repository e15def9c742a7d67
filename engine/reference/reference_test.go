package reference

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	dref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// corpus: the shapes users type, and the edges of the grammar.
var corpus = []string{
	"", "ubuntu", "ubuntu:22.04", "library/ubuntu", "docker.io/ubuntu", "docker.io/library/ubuntu:latest",
	"index.docker.io/library/busybox", "index.docker.io/foo/bar", "foo/bar", "foo/bar/baz:tag", "localhost/foo",
	"localhost:5000/foo/bar:1", "127.0.0.1:5000/x", "[::1]:5000/x", "[::1]/x", "[fe80::1%eth0]:5000/x", "[]:5000/x",
	"example.com/a", "Example.com/a", "EXAMPLE/a", "Foo/bar", "foo/Bar", "UPPER", "Ubuntu:tag", "ubuntu:Tag",
	"a_b/c", "a__b", "a___b", "a.b", "a..b", "a-b", "a--b", "a.-b", "-a", "a-", ".a", "a.", "a/b/", "/a", "a//b",
	"a:b/c", "host:/x", "host:5000", "host:5000:tag", "foo:bar:baz", "foo@sha256:" + hex64, "foo:tag@sha256:" + hex64,
	"foo@sha256:" + hex64[:63], "foo@sha256:" + hex64 + "0", "foo@sha512:" + hex64, "foo@md5:" + hex64,
	"foo@Sha256:" + hex64, "foo@sha256+b64u:" + hex64, "foo@sha256::" + hex64, "foo@a.b-c_d+e:" + hex64[:32],
	"foo@-a:" + hex64, "foo@a-:" + hex64, "foo@a--b:" + hex64, "foo@sha256:" + strings.ToUpper(hex64),
	"foo@@sha256:" + hex64, "foo:@sha256:" + hex64, hex64, strings.ToUpper(hex64), hex64[:63], "sha256:" + hex64,
	"foo:" + strings.Repeat("t", 128), "foo:" + strings.Repeat("t", 129), "foo:_x", "foo:.x", "foo:-x", "foo:x.-_",
	strings.Repeat("a", 245), strings.Repeat("a", 246), "example.com/" + strings.Repeat("a", 243),
	"example.com/" + strings.Repeat("a", 244), "a-.com/x", "a.-com/x", "xn--bcher-kva.example/x", "1.2.3.4/x",
	"my-registry:5000/ns/img:v1.0", "registry.example.com/ns/sub/img@sha256:" + hex64, "foo bar", "foo\tbar", "foo/bar ",
	"ünicode", "foo/bär", "a/b:c/d", "localhost", "localhost:tag", "LOCALHOST/x", "docker.io", "docker.io/",
	"docker.io/library/a/b", "library/a/b", "index.docker.io", "a/library/b",
}

// check compares every answer of this package with the library's for s.
func check(t *testing.T, s string) {
	t.Helper()
	got, gerr := ParseNormalizedNamed(s)
	want, werr := dref.ParseNormalizedNamed(s)
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Fatalf("%q: error %v, library %v", s, gerr, werr)
	}
	if gerr != nil {
		return
	}
	same := func(what, a, b string) {
		t.Helper()
		if a != b {
			t.Fatalf("%q: %s %q, library %q", s, what, a, b)
		}
	}
	same("String", got.String(), want.String())
	same("Name", got.Name(), want.Name())
	same("Domain", Domain(got), dref.Domain(want))
	same("Path", Path(got), dref.Path(want))
	same("FamiliarName", FamiliarName(got), dref.FamiliarName(want))
	same("FamiliarString", FamiliarString(got), dref.FamiliarString(want))
	same("TrimNamed", TrimNamed(got).String(), dref.TrimNamed(want).String())
	same("FamiliarString(TrimNamed)", FamiliarString(TrimNamed(got)), dref.FamiliarString(dref.TrimNamed(want)))
	same("TagNameOnly", TagNameOnly(got).String(), dref.TagNameOnly(want).String())
	same("FamiliarString(TagNameOnly)", FamiliarString(TagNameOnly(got)), dref.FamiliarString(dref.TagNameOnly(want)))
	gt, gok := got.(Tagged)
	wt, wok := want.(dref.Tagged)
	if gok != wok || (gok && gt.Tag() != wt.Tag()) {
		t.Fatalf("%q: tagged %v, library %v", s, gok, wok)
	}
	gc, gok := got.(Canonical)
	wc, wok := want.(dref.Canonical)
	if gok != wok || (gok && gc.Digest() != wc.Digest()) {
		t.Fatalf("%q: canonical %v, library %v", s, gok, wok)
	}
	_, gnt := got.(NamedTagged)
	_, wnt := want.(dref.NamedTagged)
	if gnt != wnt {
		t.Fatalf("%q: named-tagged %v, library %v", s, gnt, wnt)
	}
	for _, tag := range []string{"v1", "", "-x", strings.Repeat("x", 129), "A_b.c-d"} {
		g, gerr := WithTag(got, tag)
		w, werr := dref.WithTag(want, tag)
		if (gerr == nil) != (werr == nil) || (gerr == nil && g.String() != w.String()) || (gerr != nil && gerr.Error() != werr.Error()) {
			t.Fatalf("%q: WithTag(%q) %v %v, library %v %v", s, tag, g, gerr, w, werr)
		}
	}
	for _, d := range []digest.Digest{"sha256:" + hex64, "sha256:abc", digest.Digest("x:" + hex64[:32]), digest.Digest("-x:" + hex64)} {
		g, gerr := WithDigest(got, d)
		w, werr := dref.WithDigest(want, d)
		if (gerr == nil) != (werr == nil) || (gerr == nil && g.String() != w.String()) || (gerr != nil && gerr.Error() != werr.Error()) {
			t.Fatalf("%q: WithDigest(%q) %v %v, library %v %v", s, d, g, gerr, w, werr)
		}
	}
}

func TestMatchesDistributionOnTheCorpus(t *testing.T) {
	for _, s := range corpus {
		check(t, s)
	}
}

// Random strings over the grammar's alphabet, and random mutations of
// the corpus: the library and this package agree on every one.
func TestMatchesDistributionOnRandomStrings(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	alphabet := "abcz019AZ._-/:@[]%"
	pieces := []string{"sha256:" + hex64, "localhost", "docker.io", "index.docker.io", "library/", "ex.com", ":5000", "__", "--"}
	for i := range 200000 {
		var b strings.Builder
		for range r.IntN(14) {
			if r.IntN(6) == 0 {
				b.WriteString(pieces[r.IntN(len(pieces))])
			} else {
				b.WriteByte(alphabet[r.IntN(len(alphabet))])
			}
		}
		s := b.String()
		if i%4 == 0 {
			base := []byte(corpus[r.IntN(len(corpus))])
			if len(base) > 0 {
				base[r.IntN(len(base))] = alphabet[r.IntN(len(alphabet))]
			}
			s = string(base)
		}
		check(t, s)
	}
}

// References built from the grammar's parts, valid and nearly valid.
func TestMatchesDistributionOnGeneratedReferences(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	for range 50000 {
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteString(pick("localhost", "ex.com", "Ex.com", "a-b.c", "1.2.3.4", "[::1]", "[fe80::1]", "host", "HOST", "docker.io", "index.docker.io", "a_b", "-a.com", "a.com-"))
			if r.IntN(3) == 0 {
				b.WriteString(pick(":5000", ":", ":x", ":0"))
			}
			b.WriteByte('/')
		}
		for i := range 1 + r.IntN(3) {
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(pick("a", "ab", "a1", "library", "a.b", "a_b", "a__b", "a---b", "a.-b", "A", "a_", "_a", "0"))
		}
		if r.IntN(2) == 0 {
			b.WriteString(":" + pick("v1", "latest", "V_1.2-3", "-x", ".x", "", strings.Repeat("t", 128), strings.Repeat("t", 129)))
		}
		if r.IntN(3) == 0 {
			b.WriteString("@" + pick("sha256:"+hex64, "sha256:"+hex64[:32], "sha512:"+hex64+hex64, "sha256:"+hex64[:31], "a+b.c:"+hex64, "sha256:"+strings.ToUpper(hex64), "x:", ":"+hex64))
		}
		check(t, b.String())
	}
}

func Example() {
	n, _ := ParseNormalizedNamed("ubuntu")
	fmt.Println(TagNameOnly(n), FamiliarString(TagNameOnly(n)))
	// Output: docker.io/library/ubuntu:latest ubuntu:latest
}
