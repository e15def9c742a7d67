package engine

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Image operations show up in `docker events` as dockerd reports them.
func TestImageEvents(t *testing.T) {
	d := startDaemon(t)
	since := time.Now().Add(-time.Second).Unix()
	img, tarPath := busyboxTar(t, "busybox:latest")
	d.docker(t, "load", "-q", "-i", tarPath)
	d.docker(t, "tag", "busybox", "evt:1")
	d.docker(t, "rmi", "evt:1")
	d.docker(t, "rmi", "busybox")
	var out string
	poll(t, "the image events", func() bool {
		out = d.docker(t, "events", "--since", itoa(since), "--until", itoa(time.Now().Unix()+1),
			"--filter", "type=image", "--format", "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}")
		return strings.Count(out, "\n") >= 5
	})
	want := []string{
		"tag " + img.ID() + " busybox:latest", // dockerd tags, then reports the load
		"load " + img.ID(),
		"tag " + img.ID() + " evt:1",
		"untag " + img.ID() + " evt:1",
		"untag " + img.ID() + " busybox:latest",
		"delete " + img.ID(),
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	i := 0
	for _, l := range lines {
		if i < len(want) && strings.HasPrefix(l, want[i]) {
			i++
		}
	}
	if i != len(want) {
		t.Fatalf("events (want in order %q):\n%s", want, out)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
