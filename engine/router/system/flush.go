package system

import (
	"encoding/json"
	"net/http"
)

// flushWriter writes JSON lines and flushes each, so a streaming client sees
// every event as it happens.
type flushWriter struct {
	w   http.ResponseWriter
	enc *json.Encoder
	rc  *http.ResponseController
}

func newFlushWriter(w http.ResponseWriter) *flushWriter {
	return &flushWriter{w: w, enc: json.NewEncoder(w), rc: http.NewResponseController(w)}
}

func (f *flushWriter) encode(v any) error {
	if err := f.enc.Encode(v); err != nil {
		return err
	}
	f.flush()
	return nil
}

func (f *flushWriter) flush() { _ = f.rc.Flush() }
