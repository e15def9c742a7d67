package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/wharf-project/wharf/registry/api/errcode"
	"github.com/wharf-project/wharf/registry/storage"

	"github.com/wharf-project/wharf/internal/refgrammar"
)

// maxNameLength is distribution's limit on a repository name.
const maxNameLength = 255

func validateName(name string) error {
	if len(name) > maxNameLength {
		return errcode.ErrorCodeNameInvalid.With("repository name must not be more than 255 characters", name)
	}
	if !refgrammar.IsPath(name) {
		return errcode.ErrorCodeNameInvalid.With("invalid repository name", name)
	}
	return nil
}

// clientReadError marks a failure to read the request body: the client's
// fault (it went away or sent less than it announced), not the server's.
type clientReadError struct{ err error }

func (e clientReadError) Error() string { return "reading request body: " + e.err.Error() }
func (e clientReadError) Unwrap() error { return e.err }

// body wraps a request body so read failures come back as clientReadError.
type body struct{ r io.Reader }

func (b body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		return n, clientReadError{err}
	}
	return n, err
}

// apiError turns an error from storage into the registry error it is for.
func apiError(err error) error {
	var e errcode.Error
	var c errcode.ErrorCode
	var mbu storage.ManifestBlobUnknownError
	var cre clientReadError
	switch {
	case errors.As(err, &e), errors.As(err, &c):
		return err
	case errors.As(err, &mbu):
		return errcode.ErrorCodeManifestBlobUnknown.WithDetail(map[string]string{"digest": mbu.Digest.String()})
	case errors.Is(err, storage.ErrBlobUnknown):
		return errcode.ErrorCodeBlobUnknown.WithDetail(err.Error())
	case errors.Is(err, storage.ErrManifestUnknown), errors.Is(err, storage.ErrTagUnknown):
		return errcode.ErrorCodeManifestUnknown.WithDetail(err.Error())
	case errors.Is(err, storage.ErrUploadUnknown):
		return errcode.ErrorCodeBlobUploadUnknown
	case errors.Is(err, storage.ErrDigestMismatch), errors.Is(err, storage.ErrDigestInvalid):
		return errcode.ErrorCodeDigestInvalid.WithDetail(err.Error())
	case errors.Is(err, storage.ErrRangeInvalid):
		return errcode.ErrorCodeRangeInvalid.WithDetail(err.Error())
	case errors.Is(err, storage.ErrManifestInvalid):
		return errcode.ErrorCodeManifestInvalid.WithDetail(err.Error())
	case errors.Is(err, storage.ErrNameUnknown):
		return errcode.ErrorCodeNameUnknown
	case errors.As(err, &cre):
		return errcode.ErrorCodeBlobUploadInvalid.WithDetail(err.Error())
	}
	return err
}

func (a *App) serveError(w http.ResponseWriter, r *http.Request, err error) {
	apiErr := apiError(err)
	status := errcode.Status(apiErr)
	switch {
	case errors.Is(err, context.Canceled):
		a.log.Debug("request canceled", "method", r.Method, "path", r.URL.Path)
	case status >= 500:
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	default:
		a.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	errcode.ServeJSON(w, r, apiErr)
}
