package container

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/logger/jsonfile"
)

// LogsOptions are the query of GET /containers/{name}/logs.
type LogsOptions struct {
	Stdout, Stderr bool
	Follow         bool
	Timestamps     bool
	Since, Until   time.Time
	Tail           int // negative: all
	// Open is called once the request is valid, with whether the container
	// has a terminal (raw output) or not (multiplexed); it returns where
	// each stream goes.
	Open func(tty bool) (stdout, stderr io.Writer, err error)
}

// Logs is GET /containers/{name}/logs from the json-file log: the rotated
// files and the live one, then, with Follow, new lines until the run in
// progress ends.
func (s *Service) Logs(ctx context.Context, name string, o LogsOptions) error {
	if !o.Stdout && !o.Stderr {
		return errdefs.InvalidParameter(errors.New("Bad parameters: you must choose at least one stream"))
	}
	c, err := s.store.Get(name)
	if err != nil {
		return err
	}
	if c.HostConfig.LogConfig.Type == "none" {
		return errdefs.NotImplemented(errors.New("configured logging driver does not support reading"))
	}
	stdout, stderr, err := o.Open(c.Config.Tty)
	if err != nil {
		return err
	}
	c.Lock()
	path := c.LogPath
	c.Unlock()
	if path == "" {
		return nil // never started: nothing logged yet
	}
	var w *jsonfile.Writer
	if r := s.live(c).currentRun(); r != nil && o.Follow {
		w = r.log
	}
	ro := jsonfile.ReadOptions{Since: o.Since, Until: o.Until, Tail: o.Tail, Follow: o.Follow}
	var buf []byte
	return jsonfile.Read(ctx, path, w, ro, func(m jsonfile.Message) error {
		dst := stdout
		switch {
		case m.Stream == "stderr" && o.Stderr:
			dst = stderr
		case m.Stream == "stdout" && o.Stdout:
		default:
			return nil
		}
		line := m.Line
		if o.Timestamps {
			buf = append(append(buf[:0], m.Time.UTC().Format(time.RFC3339Nano)...), ' ')
			line = append(buf, m.Line...)
		}
		_, err := dst.Write(line)
		return err
	})
}
