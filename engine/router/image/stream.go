package image

import (
	"net/http"

	"github.com/wharf-project/wharf/engine/distribution"
)

// streamWriter sends the response header only with the first byte, so an
// operation that fails before writing anything is answered with its error's
// status, as dockerd does; later errors go into the JSON stream.
type streamWriter struct {
	w           http.ResponseWriter
	contentType string
	started     bool
	rc          *http.ResponseController
}

func newStream(w http.ResponseWriter, contentType string) *streamWriter {
	return &streamWriter{w: w, contentType: contentType, rc: http.NewResponseController(w)}
}

func (s *streamWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		s.w.Header().Set("Content-Type", s.contentType)
		s.w.WriteHeader(http.StatusOK)
	}
	return s.w.Write(p)
}

// Flush pushes each progress message to the client at once.
func (s *streamWriter) Flush() {
	if s.started {
		_ = s.rc.Flush()
	}
}

// finish turns err into the handler's result: returned while nothing was
// written, else written into the stream as errorDetail.
func (s *streamWriter) finish(err error) error {
	if err == nil {
		if !s.started {
			s.Write(nil)
		}
		return nil
	}
	if !s.started {
		return err
	}
	distribution.NewProgress(s).Error(err)
	return nil
}
