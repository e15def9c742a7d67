package engine

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
)

// tinyRootfs is a tar with one file, enough for docker import.
func tinyRootfs(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := []byte("hello from wharf\n")
	if err := tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1700000000, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The image store publishes into the daemon's event bus: import, tag,
// untag and delete reach `docker events` with dockerd's fields, and the
// image filter matches by name.
func TestEventsFromImageStore(t *testing.T) {
	d := startDaemon(t)
	start := time.Now().Add(-time.Second)
	imp := exec.Command(dockerCLI, "-H", d.Host, "import", "-", "wharf-test/tiny:v1")
	imp.Env = d.cliEnv()
	imp.Stdin = bytes.NewReader(tinyRootfs(t))
	out, err := imp.CombinedOutput()
	if err != nil {
		t.Fatalf("docker import: %v\n%s", err, out)
	}
	id := strings.TrimSpace(string(out))
	d.docker(t, "tag", "wharf-test/tiny:v1", "wharf-test/tiny:v2")
	d.docker(t, "rmi", "wharf-test/tiny:v2")
	d.docker(t, "rmi", "wharf-test/tiny:v1")
	now := time.Now()
	since := fmt.Sprintf("%d.%09d", start.Unix(), start.Nanosecond())
	until := fmt.Sprintf("%d.%09d", now.Unix(), now.Nanosecond())

	out2 := d.docker(t, "events", "--since", since, "--until", until, "--filter", "type=image", "--format", "{{json .}}")
	var actions []string
	for _, l := range nonEmptyLines(out2) {
		var m events.Message
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("event line %q: %v", l, err)
		}
		if m.Type != events.ImageEventType || m.Scope != "local" || m.TimeNano == 0 || !strings.HasPrefix(m.Actor.ID, "sha256:") {
			t.Errorf("event %+v", m)
		}
		actions = append(actions, string(m.Action))
	}
	// dockerd's sequence for these commands: import tags before it logs
	// "import"; removing the last tag deletes the image.
	want := []string{"tag", "import", "tag", "untag", "untag", "delete"}
	if strings.Join(actions, " ") != strings.Join(want, " ") {
		t.Errorf("image events %v, want %v (import id %s)\n%s", actions, want, id, out2)
	}
	// Filtering by image name without tag matches both tags, as dockerd.
	out3 := d.docker(t, "events", "--since", since, "--until", until, "--filter", "image=wharf-test/tiny", "--filter", "event=tag", "--format", "{{.Action}} {{.Actor.Attributes.name}}")
	if out3 != "tag wharf-test/tiny:v1\ntag wharf-test/tiny:v2\n" {
		t.Errorf("filtered events: %q", out3)
	}
	if out := d.docker(t, "events", "--since", since, "--until", until, "--filter", "type=container", "--format", "{{.Action}}"); strings.TrimSpace(out) != "" {
		t.Errorf("container filter let image events through: %q", out)
	}
}
