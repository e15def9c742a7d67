// Package ident checks the identifiers the engine takes from users and from
// its own directories: hex IDs and dockerd's restricted names.
//
// The checks are written by hand rather than as package-level regexps: every
// start of the wharf binary (each `wharf runtime ...` call, each container
// init) would otherwise compile those regexps again, for nothing. Each
// function's comment gives the regexp it is equal to; the tests check that
// equality on every short string of the relevant characters.
package ident

// NameChars is dockerd's rule for container, volume and network names, as
// regexp text for error messages: a letter or digit, then letters, digits,
// '_', '.' and '-'.
const NameChars = `[a-zA-Z0-9][a-zA-Z0-9_.-]`

// IsName reports whether s matches ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$: a name
// of at least one character. Containers and volumes want two (dockerd's
// NameChars followed by "+"), so they check the length themselves.
func IsName(s string) bool {
	if s == "" || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// IsLowerHex reports whether s matches ^[a-f0-9]+$, the form of an image
// or container ID and of its unique prefixes.
func IsLowerHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// IsFullID reports whether s matches ^[a-f0-9]{64}$: a whole container or
// image ID (a sha256 in hex), not a prefix of one.
func IsFullID(s string) bool { return len(s) == 64 && IsLowerHex(s) }

// IsIDPrefix reports whether s matches ^[a-f0-9]{1,64}$: something that
// may be a unique prefix of an ID.
func IsIDPrefix(s string) bool { return len(s) <= 64 && IsLowerHex(s) }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
