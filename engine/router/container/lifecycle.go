package container

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	containertypes "github.com/docker/docker/api/types/container"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

// LifecycleBackend is what the lifecycle routes need.
type LifecycleBackend interface {
	Stop(ctx context.Context, name string, o container.StopOptions) error
	Restart(ctx context.Context, name string, o container.StopOptions) error
	Kill(ctx context.Context, name, signal string) error
	Pause(ctx context.Context, name string) error
	Unpause(ctx context.Context, name string) error
	Wait(ctx context.Context, name string, cond containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error)
	Resize(ctx context.Context, name string, height, width uint) error
	Top(ctx context.Context, name, psArgs string) (*containertypes.TopResponse, error)
	Stats(ctx context.Context, name string, o container.StatsOptions) error
}

func stopOptions(r *http.Request) (container.StopOptions, error) {
	o := container.StopOptions{Signal: r.Form.Get("signal")}
	if v := r.Form.Get("t"); v != "" {
		t, err := strconv.Atoi(v)
		if err != nil {
			return o, errdefs.InvalidParameter(err)
		}
		o.Timeout = &t
	}
	return o, nil
}

func (cr *containerRouter) postContainersStop(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	o, err := stopOptions(r)
	if err != nil {
		return err
	}
	err = cr.backend.Stop(ctx, vars["name"], o)
	if container.IsNotModified(err) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) postContainersRestart(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	o, err := stopOptions(r)
	if err != nil {
		return err
	}
	if err := cr.backend.Restart(ctx, vars["name"], o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) postContainersKill(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	if err := cr.backend.Kill(ctx, vars["name"], r.Form.Get("signal")); err != nil {
		// dockerd's wording, with the name as the client gave it.
		return fmt.Errorf("cannot kill container: %s: %w", vars["name"], err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) postContainersPause(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := cr.backend.Pause(ctx, vars["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (cr *containerRouter) postContainersUnpause(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := cr.backend.Unpause(ctx, vars["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postContainersWait sends its headers as soon as the waiter is
// registered, then the result when the condition is met.
func (cr *containerRouter) postContainersWait(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	ch, err := cr.backend.Wait(ctx, vars["name"], containertypes.WaitCondition(r.Form.Get("condition")))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	res, ok := <-ch
	if !ok {
		return nil // the client went away
	}
	return json.NewEncoder(w).Encode(res)
}

func dims(r *http.Request) (height, width uint, err error) {
	h, err := strconv.ParseUint(r.Form.Get("h"), 10, 32)
	if err != nil {
		return 0, 0, errdefs.InvalidParameter(err)
	}
	wd, err := strconv.ParseUint(r.Form.Get("w"), 10, 32)
	if err != nil {
		return 0, 0, errdefs.InvalidParameter(err)
	}
	return uint(h), uint(wd), nil
}

func (cr *containerRouter) postContainersResize(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	h, wd, err := dims(r)
	if err != nil {
		return err
	}
	if err := cr.backend.Resize(ctx, vars["name"], h, wd); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (cr *containerRouter) getContainersTop(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	top, err := cr.backend.Top(ctx, vars["name"], r.Form.Get("ps_args"))
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, top)
}

func (cr *containerRouter) getContainersStats(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	stream := httputils.BoolValueOrDefault(r, "stream", true)
	oneShot := httputils.BoolValue(r, "one-shot")
	started := false
	var enc *json.Encoder
	return cr.backend.Stats(ctx, vars["name"], container.StatsOptions{Stream: stream, OneShot: oneShot && !stream,
		Write: func(s *containertypes.StatsResponse) error {
			if !started {
				started = true
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusOK)
				f, _ := w.(http.Flusher)
				enc = json.NewEncoder(httputils.FlushWriter{W: w, F: f})
			}
			return enc.Encode(s)
		}})
}
