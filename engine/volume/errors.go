package volume

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// Sentinel causes, found with errors.Is under the class wrappers.
var (
	ErrNoSuchVolume = errors.New("no such volume")
	ErrInUse        = errors.New("volume is in use")
	ErrNameConflict = errors.New("volume name must be unique")
)

// opError formats an error as dockerd's volume store does:
// "<op> <name>: <cause>[ - [ref1, ref2]]", e.g.
// "remove data: volume is in use - [4f2e...]". The class of cause is kept.
type opError struct {
	op, name string
	err      error
	refs     []string
}

func (e *opError) Error() string {
	s := e.op
	if e.name != "" {
		s += " " + e.name
	}
	s += ": " + e.err.Error()
	if len(e.refs) > 0 {
		s += " - [" + strings.Join(e.refs, ", ") + "]"
	}
	return s
}

func (e *opError) Unwrap() error { return e.err }

func errNotFound(op, name string) error {
	return errdefs.NotFound(&opError{op: op, name: name, err: ErrNoSuchVolume})
}

func errInUse(name string, refs []string) error {
	return errdefs.Conflict(&opError{op: "remove", name: name, err: ErrInUse, refs: refs})
}

func errCreate(name string, err error) error {
	var cls error = &opError{op: "create", name: name, err: err}
	switch {
	case errdefs.IsInvalidParameter(err):
		return errdefs.InvalidParameter(cls)
	case errdefs.IsNotFound(err):
		return errdefs.NotFound(cls)
	case errdefs.IsConflict(err):
		return errdefs.Conflict(cls)
	}
	return errdefs.System(cls)
}

func invalidf(format string, args ...any) error {
	return errdefs.InvalidParameter(fmt.Errorf(format, args...))
}
