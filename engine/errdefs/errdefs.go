// Package errdefs holds the engine's error classes. Code inside the engine
// wraps an error in a class where it knows what went wrong:
//
//	return errdefs.NotFound(fmt.Errorf("No such image: %s", ref))
//
// and the API server turns the class into an HTTP status exactly once, at the
// edge (see httputils.StatusFromError). A class is a marker interface, found
// with errors.As, so it survives further wrapping with fmt.Errorf("...: %w").
// The classes and their statuses follow moby's errdefs.
package errdefs

import "errors"

// The marker interfaces. An error belongs to a class when it, or any error it
// wraps, implements the class's method.
type (
	ErrInvalidParameter interface{ InvalidParameter() }
	ErrNotFound         interface{ NotFound() }
	ErrConflict         interface{ Conflict() }
	ErrUnauthorized     interface{ Unauthorized() }
	ErrForbidden        interface{ Forbidden() }
	ErrUnavailable      interface{ Unavailable() }
	ErrNotImplemented   interface{ NotImplemented() }
	ErrSystem           interface{ System() }
)

// Each wrapper keeps the message of the error it wraps and unwraps to it.
type (
	errInvalidParameter struct{ error }
	errNotFound         struct{ error }
	errConflict         struct{ error }
	errUnauthorized     struct{ error }
	errForbidden        struct{ error }
	errUnavailable      struct{ error }
	errNotImplemented   struct{ error }
	errSystem           struct{ error }
)

func (errInvalidParameter) InvalidParameter() {}
func (errNotFound) NotFound()                 {}
func (errConflict) Conflict()                 {}
func (errUnauthorized) Unauthorized()         {}
func (errForbidden) Forbidden()               {}
func (errUnavailable) Unavailable()           {}
func (errNotImplemented) NotImplemented()     {}
func (errSystem) System()                     {}

func (e errInvalidParameter) Unwrap() error { return e.error }
func (e errNotFound) Unwrap() error         { return e.error }
func (e errConflict) Unwrap() error         { return e.error }
func (e errUnauthorized) Unwrap() error     { return e.error }
func (e errForbidden) Unwrap() error        { return e.error }
func (e errUnavailable) Unwrap() error      { return e.error }
func (e errNotImplemented) Unwrap() error   { return e.error }
func (e errSystem) Unwrap() error           { return e.error }

// InvalidParameter marks err as a bad request (HTTP 400). A nil err stays nil.
func InvalidParameter(err error) error {
	if err == nil || IsInvalidParameter(err) {
		return err
	}
	return errInvalidParameter{err}
}

// NotFound marks err as a missing object (HTTP 404).
func NotFound(err error) error {
	if err == nil || IsNotFound(err) {
		return err
	}
	return errNotFound{err}
}

// Conflict marks err as a conflict with the current state (HTTP 409).
func Conflict(err error) error {
	if err == nil || IsConflict(err) {
		return err
	}
	return errConflict{err}
}

// Unauthorized marks err as missing or wrong credentials (HTTP 401).
func Unauthorized(err error) error {
	if err == nil || IsUnauthorized(err) {
		return err
	}
	return errUnauthorized{err}
}

// Forbidden marks err as not allowed (HTTP 403).
func Forbidden(err error) error {
	if err == nil || IsForbidden(err) {
		return err
	}
	return errForbidden{err}
}

// Unavailable marks err as a temporary inability to serve (HTTP 503).
func Unavailable(err error) error {
	if err == nil || IsUnavailable(err) {
		return err
	}
	return errUnavailable{err}
}

// NotImplemented marks err as an unsupported feature (HTTP 501).
func NotImplemented(err error) error {
	if err == nil || IsNotImplemented(err) {
		return err
	}
	return errNotImplemented{err}
}

// System marks err as a fault of the server itself (HTTP 500).
func System(err error) error {
	if err == nil || IsSystem(err) {
		return err
	}
	return errSystem{err}
}

// IsInvalidParameter reports whether err is in the InvalidParameter class.
func IsInvalidParameter(err error) bool { var e ErrInvalidParameter; return errors.As(err, &e) }

// IsNotFound reports whether err is in the NotFound class.
func IsNotFound(err error) bool { var e ErrNotFound; return errors.As(err, &e) }

// IsConflict reports whether err is in the Conflict class.
func IsConflict(err error) bool { var e ErrConflict; return errors.As(err, &e) }

// IsUnauthorized reports whether err is in the Unauthorized class.
func IsUnauthorized(err error) bool { var e ErrUnauthorized; return errors.As(err, &e) }

// IsForbidden reports whether err is in the Forbidden class.
func IsForbidden(err error) bool { var e ErrForbidden; return errors.As(err, &e) }

// IsUnavailable reports whether err is in the Unavailable class.
func IsUnavailable(err error) bool { var e ErrUnavailable; return errors.As(err, &e) }

// IsNotImplemented reports whether err is in the NotImplemented class.
func IsNotImplemented(err error) bool { var e ErrNotImplemented; return errors.As(err, &e) }

// IsSystem reports whether err is in the System class.
func IsSystem(err error) bool { var e ErrSystem; return errors.As(err, &e) }

var (
	_ ErrInvalidParameter = errInvalidParameter{}
	_ ErrNotFound         = errNotFound{}
	_ ErrConflict         = errConflict{}
	_ ErrUnauthorized     = errUnauthorized{}
	_ ErrForbidden        = errForbidden{}
	_ ErrUnavailable      = errUnavailable{}
	_ ErrNotImplemented   = errNotImplemented{}
	_ ErrSystem           = errSystem{}
)
