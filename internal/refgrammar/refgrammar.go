// Package refgrammar is the distribution spec's grammar for repository
// names (path components) and tags, which the registry and the engine's
// image references share. It is checked by hand rather than as
// package-level regexps: every start of the wharf binary (each `wharf
// runtime ...` call, each container init) would otherwise compile them
// again, for nothing. The comments give the regexps these are equal to;
// refgrammar_test.go checks that on every short string.
package refgrammar

// IsPath reports whether name matches
//
//	^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$
//
// that is, one or more path components separated by "/", each a run of
// lower-case letters and digits broken by single separators: ".", "_",
// "__" or any number of "-".
func IsPath(name string) bool {
	for {
		i := 0
		for i < len(name) && name[i] != '/' {
			i++
		}
		if !IsComponent(name[:i]) {
			return false
		}
		if i == len(name) {
			return true
		}
		name = name[i+1:]
	}
}

// IsComponent reports whether c is one path component:
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*.
func IsComponent(c string) bool {
	if c == "" || !isLowerAlnum(c[0]) || !isLowerAlnum(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); {
		if isLowerAlnum(c[i]) {
			i++
			continue
		}
		j := i
		for j < len(c) && !isLowerAlnum(c[j]) {
			j++
		}
		if sep := c[i:j]; sep != "." && sep != "_" && sep != "__" && !allDashes(sep) {
			return false
		}
		i = j
	}
	return true
}

func allDashes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			return false
		}
	}
	return true
}

// MaxTagLength is the spec's limit on a tag.
const MaxTagLength = 128

// IsTag reports whether tag matches ^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$.
func IsTag(tag string) bool {
	if tag == "" || len(tag) > MaxTagLength || tag[0] == '.' || tag[0] == '-' {
		return false
	}
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; !isLowerAlnum(c) && (c < 'A' || c > 'Z') && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
