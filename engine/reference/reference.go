// Package reference parses and normalizes image references as Docker does
// ("ubuntu" is docker.io/library/ubuntu:latest): the part of
// github.com/distribution/reference that the engine uses, with the same
// names, the same results and the same error messages.
//
// It is written by hand because distribution/reference compiles some
// twenty regular expressions at package init, 0.6 to 1.4 ms and 3600
// allocations on this machine, and every start of the wharf binary pays
// for its package inits: each `wharf runtime` call, each container init.
// The grammar below is distribution's; reference_test.go checks this
// package against the library on a corpus and on random strings.
//
//	reference  := name [ ":" tag ] [ "@" digest ]
//	name       := [ domain "/" ] path          path := component ( "/" component )*  (255 bytes at most)
//	domain     := host [ ":" port ]
//	host       := label ( "." label )* | "[" [a-fA-F0-9:]+ "]"
//	label      := [a-zA-Z0-9] | [a-zA-Z0-9] [a-zA-Z0-9-]* [a-zA-Z0-9]
//	component  := alnum ( separator alnum )*      alnum := [a-z0-9]+
//	separator  := "." | "_" | "__" | "-"+
//	tag        := [\w] [\w.-]{0,127}
//	digest     := algorithm ":" [0-9a-fA-F]{32,}
//	algorithm  := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
package reference

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/wharf-project/wharf/engine/ident"
	"github.com/wharf-project/wharf/internal/refgrammar"
)

const (
	defaultDomain       = "docker.io"
	legacyDefaultDomain = "index.docker.io"
	officialRepoPrefix  = "library/"
	defaultTag          = "latest"
	nameTotalLengthMax  = 255
)

// The errors, with distribution's messages.
var (
	ErrReferenceInvalidFormat = errors.New("invalid reference format")
	ErrTagInvalidFormat       = errors.New("invalid tag format")
	ErrDigestInvalidFormat    = errors.New("invalid digest format")
	ErrNameContainsUppercase  = errors.New("repository name must be lowercase")
	ErrNameTooLong            = fmt.Errorf("repository name must not be more than %v characters", nameTotalLengthMax)
)

// Reference is any reference.
type Reference interface {
	String() string
}

// Named is a reference with a name (domain and path).
type Named interface {
	Reference
	Name() string
}

// Tagged is a reference with a tag.
type Tagged interface {
	Reference
	Tag() string
}

// NamedTagged is a name with a tag.
type NamedTagged interface {
	Named
	Tag() string
}

// Canonical is a name with a digest.
type Canonical interface {
	Named
	Digest() digest.Digest
}

// repository is a name; the other kinds add a tag, a digest or both.
type repository struct{ domain, path string }

func (r repository) Name() string {
	if r.domain == "" {
		return r.path
	}
	return r.domain + "/" + r.path
}
func (r repository) String() string { return r.Name() }

type taggedReference struct {
	repository
	tag string
}

func (r taggedReference) String() string { return r.Name() + ":" + r.tag }
func (r taggedReference) Tag() string    { return r.tag }

type canonicalReference struct {
	repository
	digest digest.Digest
}

func (r canonicalReference) String() string        { return r.Name() + "@" + r.digest.String() }
func (r canonicalReference) Digest() digest.Digest { return r.digest }

type fullReference struct {
	repository
	tag    string
	digest digest.Digest
}

func (r fullReference) String() string        { return r.Name() + ":" + r.tag + "@" + r.digest.String() }
func (r fullReference) Tag() string           { return r.tag }
func (r fullReference) Digest() digest.Digest { return r.digest }

// repoOf is the domain and path of any Named.
func repoOf(n Named) repository {
	switch r := n.(type) {
	case repository:
		return r
	case taggedReference:
		return r.repository
	case canonicalReference:
		return r.repository
	case fullReference:
		return r.repository
	}
	d, p := splitName(n.Name())
	return repository{d, p}
}

// ParseNormalizedNamed parses s as the docker CLI does: a name without a
// domain is on docker.io, an official image's gets "library/".
func ParseNormalizedNamed(s string) (Named, error) {
	if ident.IsFullID(s) {
		return nil, fmt.Errorf("invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s)
	}
	domain, remainder := splitDockerDomain(s)
	remote := remainder
	if i := strings.IndexByte(remainder, ':'); i >= 0 {
		remote = remainder[:i]
	}
	if strings.ToLower(remote) != remote {
		return nil, fmt.Errorf("invalid reference format: repository name (%s) must be lowercase", remote)
	}
	return parse(domain + "/" + remainder)
}

// splitDockerDomain finds the domain of a reference as Docker does: the
// first element when it has a "." or ":", is localhost or has an upper
// case letter; docker.io otherwise (index.docker.io is docker.io).
func splitDockerDomain(s string) (domain, remainder string) {
	first, rest, ok := strings.Cut(s, "/")
	switch {
	case !ok:
		return defaultDomain, officialRepoPrefix + s
	case first == legacyDefaultDomain:
		domain, remainder = defaultDomain, rest
	case first == "localhost", strings.ContainsAny(first, ".:"), strings.ToLower(first) != first:
		domain, remainder = first, rest
	default:
		domain, remainder = defaultDomain, s
	}
	if domain == defaultDomain && !strings.Contains(remainder, "/") {
		remainder = officialRepoPrefix + remainder
	}
	return domain, remainder
}

// parse is distribution's Parse for references that have a name.
func parse(s string) (Named, error) {
	repo, tag, dgst, ok := split(s)
	if !ok {
		if _, _, _, lower := split(strings.ToLower(s)); lower {
			return nil, ErrNameContainsUppercase
		}
		return nil, ErrReferenceInvalidFormat
	}
	if len(repo.path) > nameTotalLengthMax {
		return nil, ErrNameTooLong
	}
	var d digest.Digest
	if dgst != "" {
		var err error
		if d, err = digest.Parse(dgst); err != nil {
			return nil, err
		}
	}
	switch {
	case tag == "" && d == "":
		return repo, nil
	case tag == "":
		return canonicalReference{repo, d}, nil
	case d == "":
		return taggedReference{repo, tag}, nil
	}
	return fullReference{repo, tag, d}, nil
}

// split checks s against the grammar and cuts it into its parts.
func split(s string) (repo repository, tag, dgst string, ok bool) {
	name, dgst, hasDigest := strings.Cut(s, "@")
	if hasDigest && !isDigest(dgst) {
		return repo, "", "", false
	}
	// A ":" after the last "/" starts the tag (one before it is a port).
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, tag = name[:i], name[i+1:]
		if !refgrammar.IsTag(tag) {
			return repo, "", "", false
		}
	}
	// The first element is a domain if it can be one and the rest is a
	// path; otherwise the whole is a path.
	if domain, path := splitName(name); domain != "" || refgrammar.IsPath(path) {
		return repository{domain, path}, tag, dgst, true
	}
	return repo, "", "", false
}

// isDomain: host [ ":" port ].
func isDomain(s string) bool {
	host := s
	if i := strings.LastIndexByte(s, ':'); i >= 0 && (s[0] != '[' || i > strings.IndexByte(s, ']')) {
		host = s[:i]
		if !isDigits(s[i+1:]) {
			return false
		}
	}
	if strings.HasPrefix(host, "[") {
		inner, ok := strings.CutSuffix(host[1:], "]")
		if !ok || inner == "" {
			return false
		}
		for i := 0; i < len(inner); i++ {
			if c := inner[i]; !isHex(c) && c != ':' {
				return false
			}
		}
		return true
	}
	for _, l := range strings.Split(host, ".") {
		if l == "" || !isAlnum(l[0]) || !isAlnum(l[len(l)-1]) {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return true
}

// isDigest: algorithm ":" hex{32,}.
func isDigest(s string) bool {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok || len(hex) < 32 || !isAlgorithm(alg) {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if !isHex(hex[i]) {
			return false
		}
	}
	return true
}

// isAlgorithm: [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*.
func isAlgorithm(s string) bool {
	start := true // a letter must come next
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case start:
			if !isLetter(c) {
				return false
			}
			start = false
		case c == '-' || c == '_' || c == '+' || c == '.':
			start = true
		case !isAlnum(c):
			return false
		}
	}
	return !start
}

func isAlnum(c byte) bool  { return isLetter(c) || isDigit(c) }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isHex(c byte) bool    { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// splitName cuts a name at its domain as the grammar does.
func splitName(name string) (domain, path string) {
	if first, rest, ok := strings.Cut(name, "/"); ok && isDomain(first) && refgrammar.IsPath(rest) {
		return first, rest
	}
	return "", name
}

// Domain is the name's domain.
func Domain(n Named) string { return repoOf(n).domain }

// Path is the name without its domain.
func Path(n Named) string { return repoOf(n).path }

// TrimNamed is the name alone, without tag or digest.
func TrimNamed(n Named) Named { return repoOf(n) }

// TagNameOnly adds the "latest" tag to a name that has neither tag nor
// digest.
func TagNameOnly(n Named) Named {
	if _, ok := n.(Tagged); ok {
		return n
	}
	if _, ok := n.(Canonical); ok {
		return n
	}
	return taggedReference{repoOf(n), defaultTag}
}

// WithTag is n with tag (and n's digest, if it has one).
func WithTag(n Named, tag string) (NamedTagged, error) {
	if !refgrammar.IsTag(tag) {
		return nil, ErrTagInvalidFormat
	}
	if c, ok := n.(Canonical); ok {
		return fullReference{repoOf(n), tag, c.Digest()}, nil
	}
	return taggedReference{repoOf(n), tag}, nil
}

// WithDigest is n with d (and n's tag, if it has one).
func WithDigest(n Named, d digest.Digest) (Canonical, error) {
	if !isDigest(d.String()) {
		return nil, ErrDigestInvalidFormat
	}
	if t, ok := n.(Tagged); ok {
		return fullReference{repoOf(n), t.Tag(), d}, nil
	}
	return canonicalReference{repoOf(n), d}, nil
}

// familiar is the repository as users write it: without docker.io, and
// without library/ for an official image.
func familiar(r repository) repository {
	if r.domain != defaultDomain {
		return r
	}
	r.domain = ""
	if rest, ok := strings.CutPrefix(r.path, officialRepoPrefix); ok && !strings.Contains(rest, "/") {
		r.path = rest
	}
	return r
}

// FamiliarName is the name as users write it ("ubuntu").
func FamiliarName(n Named) string { return familiar(repoOf(n)).Name() }

// FamiliarString is the reference as users write it ("ubuntu:22.04").
func FamiliarString(r Reference) string {
	switch v := r.(type) {
	case repository:
		return familiar(v).String()
	case taggedReference:
		return taggedReference{familiar(v.repository), v.tag}.String()
	case canonicalReference:
		return canonicalReference{familiar(v.repository), v.digest}.String()
	case fullReference:
		return fullReference{familiar(v.repository), v.tag, v.digest}.String()
	}
	return r.String()
}
