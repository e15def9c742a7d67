package container

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/docker/docker/pkg/stdcopy"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

// StreamBackend is what attach and logs need.
type StreamBackend interface {
	Attach(ctx context.Context, name string, cfg container.AttachConfig) error
	Logs(ctx context.Context, name string, o container.LogsOptions) error
}

// postContainersAttach hijacks the connection once the backend has
// validated the request and registered the attachment.
func (cr *containerRouter) postContainersAttach(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	var hj *httputils.Hijacked
	defer func() {
		if hj != nil {
			hj.Close()
		}
	}()
	cfg := attachConfig(r)
	cfg.Open = func(tty bool) (container.AttachStreams, error) {
		h, err := httputils.Hijack(w, r, tty)
		if err != nil {
			return container.AttachStreams{}, err
		}
		hj = h
		return container.AttachStreams{Stdin: h.Stdin, Stdout: h.Stdout, Stderr: h.Stderr}, nil
	}
	err := cr.backend.Attach(ctx, vars["name"], cfg)
	if err != nil && hj != nil {
		return nil // the stream had begun: the error has nowhere to go
	}
	return err
}

// attachConfig is what an attach request asks for, from its form: the
// streams, logs and stream, and the detach keys.
func attachConfig(r *http.Request) container.AttachConfig {
	return container.AttachConfig{
		UseStdin:   httputils.BoolValue(r, "stdin"),
		UseStdout:  httputils.BoolValue(r, "stdout"),
		UseStderr:  httputils.BoolValue(r, "stderr"),
		Logs:       httputils.BoolValue(r, "logs"),
		Stream:     httputils.BoolValue(r, "stream"),
		DetachKeys: r.Form.Get("detachKeys"),
	}
}

// parseTime reads since/until as the CLI sends them: Unix seconds with an
// optional fraction ("1700000000.000000001"), or RFC 3339.
func parseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	sec, frac, _ := cutDot(v)
	if s, err := strconv.ParseInt(sec, 10, 64); err == nil {
		var ns int64
		if frac != "" {
			for len(frac) < 9 {
				frac += "0"
			}
			if ns, err = strconv.ParseInt(frac[:9], 10, 64); err != nil {
				return time.Time{}, errdefs.InvalidParameter(err)
			}
		}
		return time.Unix(s, ns), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errdefs.InvalidParameter(err)
	}
	return t, nil
}

func cutDot(v string) (string, string, bool) {
	for i := 0; i < len(v); i++ {
		if v[i] == '.' {
			return v[:i], v[i+1:], true
		}
	}
	return v, "", false
}

func (cr *containerRouter) getContainersLogs(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	o := container.LogsOptions{
		Stdout: httputils.BoolValue(r, "stdout"), Stderr: httputils.BoolValue(r, "stderr"),
		Follow: httputils.BoolValue(r, "follow"), Timestamps: httputils.BoolValue(r, "timestamps"), Tail: -1,
	}
	var err error
	if o.Since, err = parseTime(r.Form.Get("since")); err != nil {
		return err
	}
	if o.Until, err = parseTime(r.Form.Get("until")); err != nil {
		return err
	}
	if v := r.Form.Get("tail"); v != "" && v != "all" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			n = -1 // dockerd treats a bad tail as "all"
		}
		o.Tail = n
	}
	started := false
	o.Open = func(tty bool) (io.Writer, io.Writer, error) {
		started = true
		w.Header().Set("Content-Type", httputils.StreamMediaType(tty, httputils.VersionFromContext(ctx)))
		w.WriteHeader(http.StatusOK)
		f, _ := w.(http.Flusher)
		if f != nil {
			f.Flush()
		}
		out := httputils.FlushWriter{W: w, F: f}
		if tty {
			return out, out, nil
		}
		return stdcopy.NewStdWriter(out, stdcopy.Stdout), stdcopy.NewStdWriter(out, stdcopy.Stderr), nil
	}
	err = cr.backend.Logs(ctx, vars["name"], o)
	if err != nil && started {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err // logged by the server; the body has begun
	}
	return err
}
