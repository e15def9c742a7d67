package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// registry is a minimal client of the distribution API: just the calls a
// push and a pull make, each checking the status and digest the spec
// promises, so a server that answers fast but wrong cannot win.
type registry struct {
	base *url.URL
	hc   *http.Client
}

func newRegistry(base string) (*registry, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("registry url: %w", err)
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true, // blobs are sent as they are; gzip would only cost CPU
		WriteBufferSize:     256 << 10,
		ReadBufferSize:      256 << 10,
	}
	return &registry{base: u, hc: &http.Client{Transport: tr}}, nil
}

// do sends a request and fails unless the status is want; the body is
// drained and closed so the connection is reused.
func (r *registry) do(ctx context.Context, method, ref string, body io.Reader, size int64, hdr http.Header, want int) (*http.Response, error) {
	u, err := r.base.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, ref, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u.Path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: status %d, want %d: %s", method, u.Path, resp.StatusCode, want, bytes.TrimSpace(msg))
	}
	return resp, nil
}

// startUpload opens an upload session and returns its location.
func (r *registry) startUpload(ctx context.Context, repo string) (string, error) {
	resp, err := r.do(ctx, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil, 0, nil, http.StatusAccepted)
	if err != nil {
		return "", err
	}
	return location(resp)
}

func location(resp *http.Response) (string, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", fmt.Errorf("%s %s: no Location header", resp.Request.Method, resp.Request.URL.Path)
	}
	return loc, nil
}

// finishUpload closes an upload with PUT ?digest=, sending body as the last
// chunk (nil for none), and checks the digest the server echoes.
func (r *registry) finishUpload(ctx context.Context, loc, digest string, body []byte) error {
	u, err := r.base.Parse(loc)
	if err != nil {
		return fmt.Errorf("upload location %q: %w", loc, err)
	}
	q := u.Query()
	q.Set("digest", digest)
	u.RawQuery = q.Encode()
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	resp, err := r.do(ctx, http.MethodPut, u.String(), rd, int64(len(body)), hdr, http.StatusCreated)
	if err != nil {
		return err
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != digest {
		return fmt.Errorf("PUT %s: server stored %s, sent %s", u.Path, got, digest)
	}
	return nil
}

// pushMonolithic uploads a blob in one PUT: POST, then PUT ?digest= with
// the whole body (what containerd does).
func (r *registry) pushMonolithic(ctx context.Context, repo, digest string, blob []byte) error {
	loc, err := r.startUpload(ctx, repo)
	if err != nil {
		return err
	}
	return r.finishUpload(ctx, loc, digest, blob)
}

// pushChunked uploads a blob as PATCH chunks of chunk bytes, each with its
// Content-Range, following the Location each answer returns, then closes
// it with an empty PUT ?digest= (what the docker CLI does, in chunks).
func (r *registry) pushChunked(ctx context.Context, repo, digest string, blob []byte, chunk int) error {
	loc, err := r.startUpload(ctx, repo)
	if err != nil {
		return err
	}
	for off := 0; off < len(blob); off += chunk {
		end := min(off+chunk, len(blob))
		hdr := http.Header{
			"Content-Type":  {"application/octet-stream"},
			"Content-Range": {strconv.Itoa(off) + "-" + strconv.Itoa(end-1)},
		}
		resp, err := r.do(ctx, http.MethodPatch, loc, bytes.NewReader(blob[off:end]), int64(end-off), hdr, http.StatusAccepted)
		if err != nil {
			return err
		}
		if loc, err = location(resp); err != nil {
			return err
		}
	}
	return r.finishUpload(ctx, loc, digest, nil)
}

// pushBlob pushes a small blob the way a client does: HEAD to see whether
// the registry has it, then a monolithic upload.
func (r *registry) pushBlob(ctx context.Context, repo, digest string, blob []byte) error {
	if _, err := r.do(ctx, http.MethodHead, "/v2/"+repo+"/blobs/"+digest, nil, 0, nil, http.StatusNotFound); err != nil {
		return err
	}
	return r.pushMonolithic(ctx, repo, digest, blob)
}

// putManifest stores a manifest under a tag and checks the digest.
func (r *registry) putManifest(ctx context.Context, repo, tag, mediaType, digest string, body []byte) error {
	hdr := http.Header{"Content-Type": {mediaType}}
	resp, err := r.do(ctx, http.MethodPut, "/v2/"+repo+"/manifests/"+tag, bytes.NewReader(body), int64(len(body)), hdr, http.StatusCreated)
	if err != nil {
		return err
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != digest {
		return fmt.Errorf("PUT manifest %s:%s: server says %q, want %s", repo, tag, got, digest)
	}
	return nil
}

// ping waits until GET /v2/ answers 200, or the deadline passes, or alive
// reports the server process gone.
func (r *registry) ping(ctx context.Context, deadline time.Duration, alive func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	for {
		_, err := r.do(ctx, http.MethodGet, "/v2/", nil, 0, nil, http.StatusOK)
		if err == nil {
			return nil
		}
		if !alive() {
			return fmt.Errorf("server exited: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", deadline, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
