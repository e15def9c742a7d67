package container

import (
	"context"
	"errors"
	"fmt"
	"io"

	eventtypes "github.com/docker/docker/api/types/events"
	"github.com/moby/term"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/logger/jsonfile"
)

// defaultDetachKeys is ctrl-p ctrl-q, dockerd's default escape sequence.
var defaultDetachKeys = []byte{16, 17}

// AttachStreams are the client's ends of an attachment; a nil stream was
// not asked for.
type AttachStreams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// AttachConfig is what an attach asks for. Open is called once the request
// is known to be valid, with whether the container has a terminal (which
// decides the framing); it returns the client's streams, typically after
// hijacking the connection and sending the 101 response. Until Open no
// byte has been written, so an error is an ordinary API error.
type AttachConfig struct {
	UseStdin, UseStdout, UseStderr bool
	Logs                           bool // replay the log first
	Stream                         bool // then stay attached to the live output
	DetachKeys                     string
	Open                           func(tty bool) (AttachStreams, error)
}

// Attach is POST /containers/{name}/attach. A live attachment lasts until
// the run in progress (or, for a container not yet started, the next run)
// ends, until its client is gone (a write fails, or stdin breaks), or until
// the client types the detach keys. ctx is not watched: a hijacked
// request's context says nothing about its connection. Client stdin goes into the container's stdin pipe; its end closes
// the container's stdin when the container was made with StdinOnce (as
// `docker run -i` does).
func (s *Service) Attach(ctx context.Context, name string, cfg AttachConfig) error {
	// As dockerd: the detach keys first, then the container, named as the
	// client named it.
	keys := defaultDetachKeys
	if cfg.DetachKeys != "" {
		var err error
		if keys, err = term.ToBytes(cfg.DetachKeys); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("Invalid detach keys (%s) provided", cfg.DetachKeys))
		}
	}
	c, err := s.store.Get(name)
	if err != nil {
		return err
	}
	st := c.State.API()
	switch {
	case st.Paused:
		return errdefs.Conflict(fmt.Errorf("container %s is paused, unpause the container before attach", name))
	case st.Restarting:
		return errdefs.Conflict(fmt.Errorf("container %s is restarting, wait until the container is running", name))
	case c.State.RemovalInProgress || st.Dead:
		return errdefs.Conflict(errors.New("You cannot attach to a container that is being removed"))
	}
	tty := c.Config.Tty
	l := s.live(c)
	a := &attachment{done: make(chan struct{})}
	var outGate, errGate *gateWriter
	if cfg.Stream {
		// Registered before the client hears back: a client that starts
		// the container as soon as it has the 101 (docker run) must get
		// every byte. Output waits at the gate until the streams are open.
		if cfg.UseStdout {
			outGate = newGateWriter()
			a.stdout = outGate
		}
		if cfg.UseStderr && !tty {
			errGate = newGateWriter()
			a.stderr = errGate
		}
		l.streams.add(a)
		defer l.streams.remove(a)
	}
	// Logged before the client hears back, so it comes before the start
	// that a client sends next.
	s.event(context.WithoutCancel(ctx), c, eventtypes.ActionAttach, nil)
	streams, err := cfg.Open(tty)
	outGate.open(streams.Stdout)
	errGate.open(streams.Stderr)
	if err != nil {
		return err
	}
	if cfg.Logs {
		s.replayLog(ctx, c, streams, cfg)
	}
	if !cfg.Stream {
		return nil
	}

	detached := make(chan struct{})
	if cfg.UseStdin && streams.Stdin != nil && c.Config.OpenStdin {
		_, stdinW := l.streams.stdin()
		go func() {
			in := term.NewEscapeProxy(streams.Stdin, keys)
			_, err := io.Copy(stdinW, in)
			if err != nil && !errors.Is(err, io.ErrClosedPipe) {
				// The detach keys, or a client that is gone (a half-close
				// is a clean EOF, err == nil).
				close(detached)
				return
			}
			if err == nil && c.Config.StdinOnce {
				_ = stdinW.Close() // the client's EOF becomes the container's
			}
		}()
	}
	select {
	case <-a.done:
	case <-detached:
	}
	return nil
}

// gateWriter holds writes until open gives it the client's stream.
type gateWriter struct {
	ready chan struct{}
	w     io.Writer
}

func newGateWriter() *gateWriter { return &gateWriter{ready: make(chan struct{})} }

// open sets the stream (nil drops the output) and lets writes through;
// on a nil gate it does nothing.
func (g *gateWriter) open(w io.Writer) {
	if g == nil {
		return
	}
	g.w = w
	close(g.ready)
}

func (g *gateWriter) Write(p []byte) (int, error) {
	<-g.ready
	if g.w == nil {
		return 0, io.ErrClosedPipe
	}
	return g.w.Write(p)
}

// replayLog sends what the log holds, for attach's logs=1.
func (s *Service) replayLog(ctx context.Context, c *Container, streams AttachStreams, cfg AttachConfig) {
	c.Lock()
	path := c.LogPath
	c.Unlock()
	if path == "" || c.HostConfig.LogConfig.Type == "none" {
		return
	}
	_ = jsonfile.Read(ctx, path, nil, jsonfile.ReadOptions{Tail: -1}, func(m jsonfile.Message) error {
		switch {
		case m.Stream == "stdout" && cfg.UseStdout && streams.Stdout != nil:
			_, err := streams.Stdout.Write(m.Line)
			return err
		case m.Stream == "stderr" && cfg.UseStderr && streams.Stderr != nil:
			_, err := streams.Stderr.Write(m.Line)
			return err
		}
		return nil
	})
}
