package archive

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// errTooManyLinks stops symlink loops while resolving a path in a root.
var errTooManyLinks = errors.New("too many levels of symbolic links")

// resolveInRoot resolves unsafe (a path inside a layer) to a host path below
// root, following symlinks as if root were "/": an absolute link target or
// a ".." can never leave root. Components that do not exist yet are appended
// as they are. This is what keeps a layer containing "lib -> /" followed by
// "lib/etc/passwd" from writing the host's /etc/passwd.
func resolveInRoot(root, unsafe string) (string, error) {
	var cur string // resolved path relative to root, "" = root
	rest := strings.Split(filepath.ToSlash(unsafe), "/")
	links := 0
	for len(rest) > 0 {
		comp := rest[0]
		rest = rest[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			if cur == "." || cur == "/" {
				cur = ""
			}
			continue
		}
		next := filepath.Join(cur, comp)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				cur = next
				continue
			}
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		links++
		if links > 255 {
			return "", errTooManyLinks
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			cur = ""
		}
		rest = append(strings.Split(filepath.ToSlash(target), "/"), rest...)
	}
	return filepath.Join(root, cur), nil
}
