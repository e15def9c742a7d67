package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// writeJSON writes v with status and an exact Content-Length.
func writeJSON(w http.ResponseWriter, status int, contentType string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// created answers a finished write with 201 and the new resource's location.
func created(w http.ResponseWriter, location, dgst string) {
	h := w.Header()
	h.Set("Location", location)
	h.Set("Docker-Content-Digest", dgst)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}
