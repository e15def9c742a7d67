package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Container and volume events reach `docker events` with dockerd's fields.
func TestContainerAndVolumeEvents(t *testing.T) {
	d := startDaemon(t)
	loadBusybox(t, d)
	start := time.Now().Add(-time.Second)
	id := strings.TrimSpace(d.docker(t, "create", "--pull=never", "--network", "none", "--name", "ev-one", "--label", "k=v", "-v", "evvol:/v", "busybox", "true"))
	d.docker(t, "rename", "ev-one", "ev-two")
	d.docker(t, "rm", "ev-two")
	d.docker(t, "volume", "rm", "evvol")
	now := time.Now().Add(time.Second)
	since := fmt.Sprintf("%d.%09d", start.Unix(), start.Nanosecond())
	until := fmt.Sprintf("%d.%09d", now.Unix(), now.Nanosecond())

	out := d.docker(t, "events", "--since", since, "--until", until, "--filter", "type=container",
		"--format", "{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}} {{.Actor.Attributes.image}} {{.Actor.Attributes.k}} {{.Actor.Attributes.oldName}}")
	want := strings.Join([]string{
		"container create " + id + " ev-one busybox v <no value>",
		"container rename " + id + " ev-two busybox v /ev-one",
		"container destroy " + id + " ev-two busybox v <no value>",
	}, "\n")
	if strings.TrimSpace(out) != want {
		t.Errorf("container events:\n%s\nwant:\n%s", out, want)
	}
	out = d.docker(t, "events", "--since", since, "--until", until, "--filter", "type=volume", "--format", "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}}")
	if want := "create evvol local\ndestroy evvol local"; strings.TrimSpace(out) != want {
		t.Errorf("volume events:\n%s\nwant:\n%s", out, want)
	}
	out = d.docker(t, "events", "--since", since, "--until", until, "--filter", "container=ev-two", "--format", "{{.Action}}")
	if strings.TrimSpace(out) != "rename\ndestroy" {
		t.Errorf("events by container name: %q", out)
	}
}
