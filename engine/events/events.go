// Package events is the daemon's event bus: parts of the engine (the image
// store, later containers, networks, volumes) publish what happened, and
// GET /events streams it to clients in dockerd's JSON.
//
// The bus keeps the most recent events in a bounded ring, so a client asking
// with ?since= gets the past ones it missed before the live stream:
//
//	bus := events.New()
//	bus.Log(ctx, events.ImageEventType, events.ActionTag, events.Actor{
//		ID:         "sha256:...",
//		Attributes: map[string]string{"name": "busybox:latest"},
//	})
//
//	past, live, cancel := bus.Subscribe(since, until, filter)
//	defer cancel()
//	// past: ring events with since <= time <= until that pass filter
//	// live: later events that pass filter; closed when the subscriber falls behind
//
// Publishing never blocks: a subscriber whose buffer is full is dropped (its
// channel closed), as a client too slow to read must not stall the daemon.
package events

import (
	"context"
	"sync"
	"time"

	"github.com/docker/docker/api/types/events"
)

// Re-exported so publishers need only this package.
type (
	Message = events.Message
	Actor   = events.Actor
	Type    = events.Type
	Action  = events.Action
)

// Event types and the image actions engine-B publishes.
const (
	ImageEventType     = events.ImageEventType
	ContainerEventType = events.ContainerEventType
	DaemonEventType    = events.DaemonEventType

	ActionPull   = events.ActionPull
	ActionPush   = events.ActionPush
	ActionTag    = events.ActionTag
	ActionUnTag  = events.ActionUnTag
	ActionDelete = events.ActionDelete
	ActionImport = events.ActionImport
	ActionLoad   = events.ActionLoad
	ActionSave   = events.ActionSave
	ActionReload = events.ActionReload
)

const (
	// RingSize is how many past events the bus keeps (dockerd keeps 256).
	RingSize = 256
	// subscriberBuffer is how many events a live subscriber may lag behind.
	subscriberBuffer = 1024
)

// Bus is the event bus. Its zero value is not usable; call New.
type Bus struct {
	mu     sync.Mutex
	ring   []Message // oldest first, at most RingSize
	subs   map[*subscriber]struct{}
	closed bool
	now    func() time.Time
}

type subscriber struct {
	ch     chan Message
	filter *Filter
}

// New returns an empty bus.
func New() *Bus {
	return &Bus{subs: make(map[*subscriber]struct{}), now: time.Now}
}

// Log publishes an event of type typ, as dockerd's daemon does: it stamps the
// time, scope "local" and, for images and containers, the legacy
// id/status/from fields older clients read.
func (b *Bus) Log(ctx context.Context, typ Type, action Action, actor Actor) {
	m := Message{Type: typ, Action: action, Actor: actor}
	switch typ {
	case ContainerEventType:
		m.ID, m.Status, m.From = actor.ID, string(action), actor.Attributes["image"]
	case ImageEventType:
		m.ID, m.Status = actor.ID, string(action)
	}
	b.Publish(ctx, m)
}

// Publish records m in the ring and hands it to every live subscriber whose
// filter passes it. Zero Time/TimeNano are set to now, an empty Scope to
// "local". Publish never blocks.
func (b *Bus) Publish(_ context.Context, m Message) {
	if m.TimeNano == 0 {
		now := b.now().UTC()
		m.Time, m.TimeNano = now.Unix(), now.UnixNano()
	} else if m.Time == 0 {
		m.Time = m.TimeNano / int64(time.Second)
	}
	if m.Scope == "" {
		m.Scope = "local"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.ring) == RingSize {
		copy(b.ring, b.ring[1:])
		b.ring = b.ring[:RingSize-1]
	}
	b.ring = append(b.ring, m)
	for s := range b.subs {
		if !s.filter.Include(m) {
			continue
		}
		select {
		case s.ch <- m:
		default:
			delete(b.subs, s)
			close(s.ch)
		}
	}
}

// Subscribe returns the ring's events with since <= time <= until (a zero
// bound is open; both zero returns none, as dockerd) that pass filter (nil
// passes all), and a channel of the events published from now on. cancel
// ends the subscription and closes the channel; call it exactly once.
func (b *Bus) Subscribe(since, until time.Time, filter *Filter) (past []Message, live <-chan Message, cancel func()) {
	s := &subscriber{ch: make(chan Message, subscriberBuffer), filter: filter}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !since.IsZero() || !until.IsZero() {
		var lo, hi int64
		if !since.IsZero() {
			lo = since.UnixNano()
		}
		if !until.IsZero() {
			hi = until.UnixNano()
		}
		for _, m := range b.ring {
			if m.TimeNano < lo || (hi > 0 && m.TimeNano > hi) {
				continue
			}
			if filter.Include(m) {
				past = append(past, m)
			}
		}
	}
	if b.closed {
		close(s.ch)
		return past, s.ch, func() {}
	}
	b.subs[s] = struct{}{}
	return past, s.ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[s]; ok {
			delete(b.subs, s)
			close(s.ch)
		}
	}
}

// Subscribers reports how many live subscriptions there are (for /info and tests).
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Close ends every live subscription (their channels close, so streaming
// clients see the end of the stream) and makes later subscriptions get a
// closed channel. The daemon calls it first when it shuts down. Publish still
// records into the ring after Close.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.ch)
	}
}
