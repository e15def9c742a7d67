// Package system serves the daemon-wide routes: /_ping, /version, /info,
// /events, /system/df and /auth.
package system

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/registry"
	timetypes "github.com/docker/docker/api/types/time"
	"github.com/docker/docker/api/types/versions"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/events"
	"github.com/wharf-project/wharf/engine/router"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

// BuilderVersion is sent in the Builder-Version header of /_ping: "1" is the
// classic builder, the only one wharf offers.
const BuilderVersion = "1"

type systemRouter struct {
	backend Backend
}

// New returns the system router over backend.
func New(backend Backend) router.Router { return &systemRouter{backend: backend} }

func (s *systemRouter) Routes() []router.Route {
	return []router.Route{
		router.NewGetRoute("/_ping", s.ping),
		router.NewHeadRoute("/_ping", s.ping),
		router.NewGetRoute("/events", s.getEvents),
		router.NewGetRoute("/info", s.getInfo),
		router.NewGetRoute("/version", s.getVersion),
		router.NewGetRoute("/system/df", s.getDiskUsage),
		router.NewPostRoute("/auth", s.postAuth),
	}
}

func (s *systemRouter) ping(_ context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	h := w.Header()
	h.Add("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Add("Pragma", "no-cache")
	h.Set("Builder-Version", BuilderVersion)
	h.Set("Swarm", "inactive")
	if r.Method == http.MethodHead {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", "0")
		return nil
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte("OK"))
	return err
}

func (s *systemRouter) getInfo(ctx context.Context, w http.ResponseWriter, _ *http.Request, _ map[string]string) error {
	info, err := s.backend.SystemInfo(ctx)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, info)
}

func (s *systemRouter) getVersion(ctx context.Context, w http.ResponseWriter, _ *http.Request, _ map[string]string) error {
	v, err := s.backend.SystemVersion(ctx)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, v)
}

func (s *systemRouter) getDiskUsage(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	var opts types.DiskUsageOptions
	if versions.GreaterThanOrEqualTo(httputils.VersionFromContext(ctx), "1.42") {
		for _, t := range r.Form["type"] {
			switch o := types.DiskUsageObject(t); o {
			case types.ContainerObject, types.ImageObject, types.VolumeObject, types.BuildCacheObject:
				opts.Types = append(opts.Types, o)
			default:
				return errdefs.InvalidParameter(fmt.Errorf("unknown object type: %s", t))
			}
		}
	}
	du, err := s.backend.SystemDiskUsage(ctx, opts)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, du)
}

func (s *systemRouter) postAuth(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var cfg registry.AuthConfig
	if err := httputils.ReadJSON(r, &cfg); err != nil {
		return err
	}
	status, token, err := s.backend.AuthenticateToRegistry(ctx, &cfg)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, &registry.AuthenticateOKBody{Status: status, IdentityToken: token})
}

// getEvents streams events as one JSON object per line: first the buffered
// ones in [since, until], then live ones until until passes, the client goes
// away, or the daemon shuts down (the live channel closes).
func (s *systemRouter) getEvents(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	now := time.Now()
	since, err := eventTime(r.Form.Get("since"), now)
	if err != nil {
		return err
	}
	until, err := eventTime(r.Form.Get("until"), now)
	if err != nil {
		return err
	}
	if !since.IsZero() && !until.IsZero() && since.After(until) {
		return errdefs.InvalidParameter(fmt.Errorf("`since` time (%s) cannot be after `until` time (%s)", r.Form.Get("since"), r.Form.Get("until")))
	}
	args, err := filters.FromJSON(r.Form.Get("filters"))
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	for _, k := range args.Keys() {
		if !events.AcceptedFilters[k] {
			return errdefs.InvalidParameter(fmt.Errorf("invalid filter '%s'", k))
		}
	}
	var timeout <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		timeout = t.C
	}
	past, live, cancel := s.backend.SubscribeToEvents(since, until, events.NewFilter(args))
	defer cancel()

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	out := newFlushWriter(w)
	for _, m := range past {
		if err := out.encode(m); err != nil {
			return err
		}
	}
	out.flush()
	if !until.IsZero() && !until.After(now) {
		return nil // only past events were asked for
	}
	for {
		select {
		case m, ok := <-live:
			if !ok {
				return nil
			}
			if err := out.encode(m); err != nil {
				return err
			}
		case <-timeout:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// eventTime parses a since/until value as dockerd: a Unix time with optional
// fraction ("1700000000.5"), an RFC 3339 date, or a duration back from now ("10m").
func eventTime(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	ts, err := timetypes.GetTimestamp(v, now)
	if err != nil {
		return time.Time{}, errdefs.InvalidParameter(err)
	}
	sec, nsec, err := timetypes.ParseTimestamps(ts, 0)
	if err != nil {
		return time.Time{}, errdefs.InvalidParameter(err)
	}
	return time.Unix(sec, nsec), nil
}
