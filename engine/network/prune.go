package network

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	eventtypes "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/wharf-project/wharf/engine/errdefs"
)

var pruneFilters = map[string]bool{"until": true, "label": true, "label!": true}

// Prune is POST /networks/prune: user networks no running container uses.
func (s *Service) Prune(ctx context.Context, f filters.Args) (*network.PruneReport, error) {
	if err := f.Validate(pruneFilters); err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	var until time.Time
	if f.Contains("until") {
		vals := f.Get("until")
		if len(vals) > 1 {
			return nil, errdefs.InvalidParameter(errors.New("more than one until filter specified"))
		}
		t, err := parseUntil(vals[0])
		if err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
		until = t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := &network.PruneReport{NetworksDeleted: []string{}}
	for _, n := range s.sortedNets() {
		if n.Predefined || !until.IsZero() && !n.Created.Before(until) {
			continue
		}
		if !f.MatchKVList("label", n.Labels) {
			continue
		}
		if f.Contains("label!") && matchAnyLabel(f.Get("label!"), n.Labels) {
			continue
		}
		busy := false
		for _, sb := range s.sandboxes {
			busy = busy || sb.Endpoints[n.ID] != nil
		}
		if busy {
			continue
		}
		if err := s.removeLocked(ctx, n); err != nil {
			s.log.Warn("network prune: remove failed", "network", n.Name, "error", err)
			continue
		}
		rep.NetworksDeleted = append(rep.NetworksDeleted, n.Name)
	}
	if len(rep.NetworksDeleted) > 0 && s.cfg.Events != nil {
		s.cfg.Events.Log(ctx, eventtypes.NetworkEventType, eventtypes.ActionPrune, eventtypes.Actor{Attributes: map[string]string{"reclaimed": "0"}})
	}
	sort.Strings(rep.NetworksDeleted)
	return rep, nil
}

// parseUntil reads a prune "until": a Unix timestamp, an RFC 3339 time, or
// a duration before now.
func parseUntil(v string) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	if sec, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Unix(int64(sec), 0), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid until %q", v)
}

// matchAnyLabel reports whether labels has one of "key" or "key=value".
func matchAnyLabel(want []string, labels map[string]string) bool {
	for _, w := range want {
		k, v, hasV := strings.Cut(w, "=")
		if lv, ok := labels[k]; ok && (!hasV || lv == v) {
			return true
		}
	}
	return false
}
