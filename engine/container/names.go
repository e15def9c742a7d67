package container

import (
	"errors"
	"fmt"
	"strings"

	"github.com/docker/docker/pkg/namesgenerator"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/ident"
)

func errConflictf(format string, args ...any) error {
	return errdefs.Conflict(fmt.Errorf(format, args...))
}

func errInvalidf(format string, args ...any) error {
	return errdefs.InvalidParameter(fmt.Errorf(format, args...))
}

// errNoSuchContainer is dockerd's 404.
func errNoSuchContainer(name string) error {
	return errdefs.NotFound(errors.New("No such container: " + name))
}

// nameConflict is dockerd's 409 for a name in use.
func nameConflict(name, id string) error {
	return errConflictf("Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.", name, id)
}

// isValidName is dockerd's rule for container names, ^/?NameChars+$: an
// optional leading "/", then a name of at least two characters.
func isValidName(name string) bool {
	name = strings.TrimPrefix(name, "/")
	return len(name) >= 2 && ident.IsName(name)
}

// normalizeName checks a user's container name and returns it with its
// leading "/".
func normalizeName(name string) (string, error) {
	if !isValidName(name) {
		return "", errInvalidf("Invalid container name (%s), only %s are allowed", name, ident.NameChars)
	}
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return name, nil
}

// reserveName reserves name (normalised) for id, or generates and reserves
// a name like dockerd's ("/adjective_surname") when name is empty.
func (s *Store) reserveName(name, id string) (string, error) {
	if name != "" {
		n, err := normalizeName(name)
		if err != nil {
			return "", err
		}
		return n, s.reserve(n, id)
	}
	for i := 0; i < 6; i++ {
		n := "/" + namesgenerator.GetRandomName(i)
		if s.reserve(n, id) == nil {
			return n, nil
		}
	}
	n := "/" + id[:12]
	return n, s.reserve(n, id)
}
