package events

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
)

func TestRingAndSubscribe(t *testing.T) {
	ctx := context.Background()
	b := New()
	base := time.Unix(1000, 0)
	for i := 0; i < RingSize+10; i++ {
		b.Publish(ctx, Message{Type: ImageEventType, Action: ActionTag, Actor: Actor{ID: "sha256:x"},
			TimeNano: base.Add(time.Duration(i) * time.Second).UnixNano()})
	}
	past, live, cancel := b.Subscribe(time.Unix(1000, 0), time.Time{}, nil)
	if len(past) != RingSize {
		t.Fatalf("past %d, want %d", len(past), RingSize)
	}
	if past[0].Time != 1010 || past[0].Scope != "local" {
		t.Fatalf("oldest kept %+v", past[0])
	}
	past2, _, cancel2 := b.Subscribe(base.Add(100*time.Second), base.Add(110*time.Second), nil)
	cancel2()
	if len(past2) != 11 {
		t.Fatalf("window: %d events, want 11", len(past2))
	}
	if p, _, c := b.Subscribe(time.Time{}, time.Time{}, nil); len(p) != 0 {
		t.Fatal("no bounds must give no past events")
	} else {
		c()
	}
	b.Log(ctx, ImageEventType, ActionDelete, Actor{ID: "sha256:y"})
	m := <-live
	if m.Action != ActionDelete || m.ID != "sha256:y" || m.Status != "delete" || m.TimeNano == 0 {
		t.Fatalf("live %+v", m)
	}
	cancel()
	if _, ok := <-live; ok {
		t.Fatal("channel open after cancel")
	}
	if b.Subscribers() != 0 {
		t.Fatal("subscriber left")
	}
}

func TestSlowSubscriberDropped(t *testing.T) {
	b := New()
	_, live, cancel := b.Subscribe(time.Time{}, time.Time{}, nil)
	defer cancel()
	for i := 0; i < subscriberBuffer+1; i++ {
		b.Publish(context.Background(), Message{Type: DaemonEventType, Action: ActionReload})
	}
	n := 0
	for range live {
		n++
	}
	if n != subscriberBuffer || b.Subscribers() != 0 {
		t.Fatalf("got %d events, %d subscribers", n, b.Subscribers())
	}
}

func TestFilter(t *testing.T) {
	img := Message{Type: ImageEventType, Action: ActionTag, Scope: "local",
		Actor: Actor{ID: "sha256:abc", Attributes: map[string]string{"name": "docker.io/library/busybox:latest", "l": "v"}}}
	ctr := Message{Type: ContainerEventType, Action: "health_status: healthy", Scope: "local",
		Actor: Actor{ID: "0123456789", Attributes: map[string]string{"name": "web", "image": "busybox"}}}
	cases := []struct {
		args     filters.Args
		img, ctr bool
	}{
		{filters.NewArgs(), true, true},
		{filters.NewArgs(filters.Arg("type", "image")), true, false},
		{filters.NewArgs(filters.Arg("image", "busybox")), true, true},
		{filters.NewArgs(filters.Arg("event", "tag")), true, false},
		{filters.NewArgs(filters.Arg("event", "health_status")), false, true},
		{filters.NewArgs(filters.Arg("container", "web")), false, true},
		{filters.NewArgs(filters.Arg("container", "0123")), false, true},
		{filters.NewArgs(filters.Arg("label", "l=v")), true, false},
		{filters.NewArgs(filters.Arg("scope", "swarm")), false, false},
	}
	for i, c := range cases {
		f := NewFilter(c.args)
		if f.Include(img) != c.img || f.Include(ctr) != c.ctr {
			t.Errorf("case %d: image %v container %v, want %v %v", i, f.Include(img), f.Include(ctr), c.img, c.ctr)
		}
	}
}
