package container

import (
	"context"
	"errors"
	"net/http"

	"github.com/docker/docker/api/types/versions"
	"golang.org/x/net/websocket"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

// wsContainersAttach is GET /containers/{name}/attach/ws: an attach over
// a websocket, as dockerd serves it. The streams are raw (stdout and
// stderr are not told apart, whatever the terminal); from API 1.28 the
// output goes in binary frames, before in text frames. The websocket
// handshake happens once the attach is known to be valid, so an unknown
// container is an ordinary 404.
func (cr *containerRouter) wsContainersAttach(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	done := make(chan struct{}) // the attach is over: the websocket handler may return
	var served chan struct{}    // closed when the websocket server is done with w
	binary := versions.GreaterThanOrEqualTo(httputils.VersionFromContext(ctx), "1.28")
	cfg := attachConfig(r)
	cfg.Open = func(bool) (container.AttachStreams, error) {
		conns := make(chan *websocket.Conn, 1)
		served = make(chan struct{})
		srv := websocket.Server{Handler: func(c *websocket.Conn) {
			conns <- c
			<-done
		}}
		go func() {
			defer close(served)
			defer func() { _ = recover() }() // a failed hijack panics in x/net/websocket
			srv.ServeHTTP(w, r)
		}()
		select {
		case c := <-conns:
			if binary {
				c.PayloadType = websocket.BinaryFrame
			}
			return container.AttachStreams{Stdin: c, Stdout: c, Stderr: c}, nil
		case <-served:
			return container.AttachStreams{}, errors.New("websocket handshake failed")
		}
	}
	err := cr.backend.Attach(ctx, vars["name"], cfg)
	if served != nil {
		close(done)
		<-served
		return nil // the response was the websocket's, whatever happened
	}
	return err
}
