// Package errcode holds the registry's API errors: registered descriptors with
// a code, a message and an HTTP status, written to clients as the
// distribution spec's JSON body
//
//	{"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown to registry", "detail": ...}]}
//
// Handlers return errors; the edge turns them into this body exactly once
// (ServeJSON). Anything that is not an Error becomes UNKNOWN with status 500.
package errcode

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// ErrorCode is one registered kind of API error.
type ErrorCode struct {
	Value      string // the spec's code, e.g. "BLOB_UNKNOWN"
	Message    string // the default, human readable message
	HTTPStatus int
}

// Error is an ErrorCode with an optional message and detail for one occurrence.
type Error struct {
	Code    ErrorCode
	Message string
	Detail  any
}

func (e Error) Error() string {
	if e.Message != "" {
		return e.Code.Value + ": " + e.Message
	}
	return e.Code.Value + ": " + e.Code.Message
}

// WithDetail returns an Error of this code carrying detail.
func (c ErrorCode) WithDetail(detail any) Error { return Error{Code: c, Detail: detail} }

// WithMessage returns an Error of this code with its own message.
func (c ErrorCode) WithMessage(msg string) Error { return Error{Code: c, Message: msg} }

// With is WithDetail and WithMessage in one.
func (c ErrorCode) With(msg string, detail any) Error {
	return Error{Code: c, Message: msg, Detail: detail}
}

func (c ErrorCode) Error() string { return c.Value + ": " + c.Message }

func reg(value, msg string, status int) ErrorCode {
	return ErrorCode{Value: value, Message: msg, HTTPStatus: status}
}

// The codes of the OCI distribution spec, plus distribution's own.
var (
	ErrorCodeBlobUnknown         = reg("BLOB_UNKNOWN", "blob unknown to registry", http.StatusNotFound)
	ErrorCodeBlobUploadInvalid   = reg("BLOB_UPLOAD_INVALID", "blob upload invalid", http.StatusBadRequest)
	ErrorCodeBlobUploadUnknown   = reg("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", http.StatusNotFound)
	ErrorCodeDigestInvalid       = reg("DIGEST_INVALID", "provided digest did not match uploaded content", http.StatusBadRequest)
	ErrorCodeManifestBlobUnknown = reg("MANIFEST_BLOB_UNKNOWN", "manifest references a manifest or blob unknown to registry", http.StatusBadRequest)
	ErrorCodeManifestInvalid     = reg("MANIFEST_INVALID", "manifest invalid", http.StatusBadRequest)
	ErrorCodeManifestUnknown     = reg("MANIFEST_UNKNOWN", "manifest unknown to registry", http.StatusNotFound)
	ErrorCodeNameInvalid         = reg("NAME_INVALID", "invalid repository name", http.StatusBadRequest)
	ErrorCodeNameUnknown         = reg("NAME_UNKNOWN", "repository name not known to registry", http.StatusNotFound)
	ErrorCodeSizeInvalid         = reg("SIZE_INVALID", "provided length did not match content length", http.StatusBadRequest)
	ErrorCodeTagInvalid          = reg("TAG_INVALID", "manifest tag did not match URI", http.StatusBadRequest)
	ErrorCodeUnauthorized        = reg("UNAUTHORIZED", "authentication required", http.StatusUnauthorized)
	ErrorCodeDenied              = reg("DENIED", "requested access to the resource is denied", http.StatusForbidden)
	ErrorCodeUnsupported         = reg("UNSUPPORTED", "The operation is unsupported.", http.StatusMethodNotAllowed)
	ErrorCodeTooManyRequests     = reg("TOOMANYREQUESTS", "too many requests", http.StatusTooManyRequests)
	ErrorCodeRangeInvalid        = reg("RANGE_INVALID", "invalid content range", http.StatusRequestedRangeNotSatisfiable)
	ErrorCodePaginationInvalid   = reg("PAGINATION_NUMBER_INVALID", "invalid number of results requested", http.StatusBadRequest)
	ErrorCodeUnknown             = reg("UNKNOWN", "unknown error", http.StatusInternalServerError)
)

type jsonError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// Status returns the HTTP status err is written with.
func Status(err error) int {
	var e Error
	if errors.As(err, &e) {
		return e.Code.HTTPStatus
	}
	var c ErrorCode
	if errors.As(err, &c) {
		return c.HTTPStatus
	}
	return http.StatusInternalServerError
}

func toJSON(err error) jsonError {
	var e Error
	if errors.As(err, &e) {
		msg := e.Message
		if msg == "" {
			msg = e.Code.Message
		}
		return jsonError{Code: e.Code.Value, Message: msg, Detail: e.Detail}
	}
	var c ErrorCode
	if errors.As(err, &c) {
		return jsonError{Code: c.Value, Message: c.Message}
	}
	return jsonError{Code: ErrorCodeUnknown.Value, Message: err.Error()}
}

// ServeJSON writes err as the spec's error body with its status. A HEAD
// request gets the status and headers only.
func ServeJSON(w http.ResponseWriter, r *http.Request, err error) {
	status := Status(err)
	body, _ := json.Marshal(struct {
		Errors []jsonError `json:"errors"`
	}{[]jsonError{toJSON(err)}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Del("Docker-Content-Digest")
	h.Del("Content-Range")
	if r != nil && r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
