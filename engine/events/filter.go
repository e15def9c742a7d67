package events

import (
	"strings"

	"github.com/docker/docker/api/types/filters"

	"github.com/wharf-project/wharf/engine/reference"
)

// AcceptedFilters are the filter keys GET /events accepts, as dockerd.
var AcceptedFilters = map[string]bool{
	"config": true, "container": true, "daemon": true, "event": true,
	"image": true, "label": true, "network": true, "node": true,
	"plugin": true, "scope": true, "secret": true, "service": true,
	"type": true, "volume": true,
}

// Filter decides which events a subscriber sees, with dockerd's matching
// rules: type, scope and event match exactly; container, network, volume,
// daemon and the like match the actor's ID or its "name" attribute (by
// prefix); image matches the ID or name with or without tag; label matches
// the actor's attributes.
type Filter struct {
	args filters.Args
}

// NewFilter returns a filter over args (from filters.FromJSON).
func NewFilter(args filters.Args) *Filter { return &Filter{args: args} }

// Include reports whether m passes the filter. A nil filter passes all.
func (f *Filter) Include(m Message) bool {
	if f == nil {
		return true
	}
	a := f.args
	return f.matchEvent(m) &&
		a.ExactMatch("type", string(m.Type)) &&
		a.ExactMatch("scope", m.Scope) &&
		f.fuzzyName(m, "daemon") &&
		f.fuzzyName(m, "container") &&
		f.fuzzyName(m, "plugin") &&
		f.matchByName(m, "volume") &&
		f.matchByName(m, "network") &&
		f.matchByName(m, "node") &&
		f.matchByName(m, "service") &&
		f.matchByName(m, "secret") &&
		f.matchByName(m, "config") &&
		f.matchImage(m) &&
		(!a.Contains("label") || a.MatchKVList("label", m.Actor.Attributes))
}

func (f *Filter) matchEvent(m Message) bool {
	for _, v := range f.args.Get("event") {
		// dockerd matches these by prefix: "health_status: healthy".
		if v == "health_status" || v == "exec_create" || v == "exec_start" {
			return f.args.FuzzyMatch("event", string(m.Action))
		}
	}
	return f.args.ExactMatch("event", string(m.Action))
}

func (f *Filter) fuzzyName(m Message, key string) bool {
	return f.args.FuzzyMatch(key, m.Actor.ID) || f.args.FuzzyMatch(key, m.Actor.Attributes["name"])
}

func (f *Filter) matchByName(m Message, key string) bool {
	return f.args.ExactMatch(key, m.Actor.ID) || f.args.ExactMatch(key, m.Actor.Attributes["name"])
}

func (f *Filter) matchImage(m Message) bool {
	attr := "image"
	if m.Type == ImageEventType {
		attr = "name"
	}
	name := m.Actor.Attributes[attr]
	a := f.args
	return a.ExactMatch("image", m.Actor.ID) || a.ExactMatch("image", name) ||
		a.ExactMatch("image", stripTag(m.Actor.ID)) || a.ExactMatch("image", stripTag(name))
}

// stripTag turns "docker.io/library/busybox:latest" into "busybox".
func stripTag(image string) string {
	if image == "" || strings.HasPrefix(image, "sha256:") {
		return image
	}
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return image
	}
	return reference.FamiliarName(ref)
}
