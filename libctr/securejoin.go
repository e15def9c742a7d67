package libctr

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// securePath resolves unsafe (a path inside the container) against root
// the way the container would see it: symlinks are followed, but an
// absolute link or a ".." never leaves root. Components that do not exist
// yet are kept as written, so the result can be created.
func securePath(root, unsafe string) (string, error) {
	var resolved string // relative to root, always clean, never with ".."
	rest := strings.Split(filepath.Clean("/"+unsafe), "/")
	for links := 0; len(rest) > 0; {
		part := rest[0]
		rest = rest[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir("/" + resolved)[1:]
			continue
		}
		next := filepath.Join(resolved, part)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", err
			}
			resolved = next
			continue
		}
		if links++; links > 255 {
			return "", &os.PathError{Op: "resolve", Path: unsafe, Err: errors.New("too many symlinks")}
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			resolved = ""
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return filepath.Join(root, resolved), nil
}
