package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// listeners reports how many event streams the daemon serves (from /info).
func (d *daemonProc) listeners(t *testing.T) int {
	t.Helper()
	var info struct{ NEventsListener int }
	r := d.do(t, "GET", "/info", nil, nil)
	if err := json.Unmarshal([]byte(r.Body), &info); err != nil {
		t.Fatalf("info: %v %s", err, r.Body)
	}
	return info.NEventsListener
}

// reload writes daemon.json and sends SIGHUP; the daemon publishes a
// daemon "reload" event.
func (d *daemonProc) reload(t *testing.T, daemonJSON string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(d.Dir, "daemon.json"), []byte(daemonJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	d.signal(t, syscall.SIGHUP)
}

func TestEventsSDKStreamAndShutdown(t *testing.T) {
	d := startDaemon(t)
	cli := d.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	info, err := cli.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msgs, errs := cli.Events(ctx, events.ListOptions{Filters: filters.NewArgs(filters.Arg("type", "daemon"))})
	poll(t, "the event stream to be subscribed", func() bool { return d.listeners(t) == 1 })

	d.reload(t, `{"labels": ["team=wharf"]}`)
	var m events.Message
	select {
	case m = <-msgs:
	case err := <-errs:
		t.Fatalf("event stream: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no reload event within 30s")
	}
	if m.Type != events.DaemonEventType || m.Action != events.ActionReload || m.Actor.ID != info.ID ||
		m.Actor.Attributes["labels"] != `["team=wharf"]` || m.Scope != "local" || m.TimeNano == 0 {
		t.Fatalf("event %+v", m)
	}
	info, err = cli.Info(ctx)
	if err != nil || len(info.Labels) != 1 || info.Labels[0] != "team=wharf" {
		t.Fatalf("labels after reload: %v %v", info.Labels, err)
	}

	// Shutdown ends open streams, so the daemon exits without waiting out its bound.
	if err := d.stop(); err != nil {
		t.Fatalf("stop with an open event stream: %v", err)
	}
	select {
	case err := <-errs:
		if err != io.EOF && !strings.Contains(err.Error(), "EOF") {
			t.Fatalf("stream ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("event stream still open after shutdown")
	}
}

func TestEventsCLIPastAndFilters(t *testing.T) {
	d := startDaemon(t)
	start := time.Now().Add(-time.Second).Unix()
	_, live, cancel := d.subscribe(t)
	defer cancel()
	d.reload(t, `{}`)
	line := live()
	var m events.Message
	if err := json.Unmarshal([]byte(line), &m); err != nil || m.Action != events.ActionReload {
		t.Fatalf("live event %q: %v", line, err)
	}
	since := strconv.FormatInt(start, 10)
	// Past events: an --until already passed (now, after the event, to the
	// nanosecond) makes the CLI print the buffered events and exit.
	now := time.Now()
	until := fmt.Sprintf("%d.%09d", now.Unix(), now.Nanosecond())
	cases := []struct {
		filter string
		want   int
	}{
		{"", 1},
		{"type=daemon", 1},
		{"event=reload", 1},
		{"type=image", 0},
		{"event=pull", 0},
		{"daemon=" + m.Actor.ID, 1},
	}
	for _, c := range cases {
		args := []string{"events", "--since", since, "--until", until, "--format", "{{json .}}"}
		if c.filter != "" {
			args = append(args, "--filter", c.filter)
		}
		out := d.docker(t, args...)
		if n := len(nonEmptyLines(out)); n != c.want {
			t.Errorf("docker events --filter %q: %d events, want %d:\n%s", c.filter, n, c.want, out)
		}
	}
	if _, err := os.Stat(debianDockerCLI); err == nil {
		out := d.debianDocker(t, "events", "--since", since, "--until", until, "--format", "{{.Type}} {{.Action}}")
		if strings.TrimSpace(out) != "daemon reload" {
			t.Errorf("debian docker events: %q", out)
		}
	}
	// Relative since ("10m") and RFC 3339 until are accepted as dockerd does.
	rfc := now.UTC().Format(time.RFC3339Nano)
	if out := d.docker(t, "events", "--since", "10m", "--until", rfc, "--format", "{{.Action}}"); strings.TrimSpace(out) != "reload" {
		t.Errorf("relative since: %q", out)
	}
}

// subscribe runs `docker events` (live) and returns a function that reads
// its next JSON line, waiting at most 30 s.
func (d *daemonProc) subscribe(t *testing.T) (*exec.Cmd, func() string, func()) {
	t.Helper()
	cmd := exec.Command(dockerCLI, "-H", d.Host, "events", "--format", "{{json .}}")
	cmd.Env = d.cliEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	cancel := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	poll(t, "docker events to subscribe", func() bool { return d.listeners(t) == 1 })
	next := func() string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("docker events ended")
			}
			return l
		case <-time.After(30 * time.Second):
			t.Fatal("no event line within 30s")
		}
		return ""
	}
	return cmd, next, cancel
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
