// Package teststrings enumerates short strings for tests that check a
// hand-written matcher against the regular expression it replaces: every
// string up to a few bytes long over an alphabet holding one byte of each
// class the rule tells apart, plus the bytes at the edges of its ranges.
package teststrings

// All returns every string of up to n bytes drawn from alphabet (the empty
// one first), in a fixed order: len(alphabet)^n strings at the last level,
// so keep both small.
func All(alphabet string, n int) []string {
	out := []string{""}
	level := []string{""}
	for range n {
		var next []string
		for _, p := range level {
			for i := 0; i < len(alphabet); i++ {
				next = append(next, p+alphabet[i:i+1])
			}
		}
		out = append(out, next...)
		level = next
	}
	return out
}
