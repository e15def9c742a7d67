package system_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-project/wharf/engine/daemon"
	"github.com/wharf-project/wharf/engine/events"
	"github.com/wharf-project/wharf/engine/router/system"
	"github.com/wharf-project/wharf/engine/server"
)

// serve runs the system router on a real daemon (temp roots) behind the server.
func serve(t *testing.T) (*daemon.Daemon, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := daemon.Config{DataRoot: filepath.Join(dir, "data"), ExecRoot: filepath.Join(dir, "exec")}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := server.New(server.Config{Version: "test"})
	if err := s.Register(system.New(d)); err != nil {
		t.Fatal(err)
	}
	s.Ready()
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		_ = d.Shutdown(context.Background())
		ts.Close()
	})
	return d, ts.URL
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPastEventsWindowAndFilters(t *testing.T) {
	d, base := serve(t)
	ctx := context.Background()
	t0 := time.Unix(1700000000, 0)
	for i, a := range []events.Action{events.ActionPull, events.ActionTag, events.ActionDelete} {
		d.Events.Publish(ctx, events.Message{Type: events.ImageEventType, Action: a, Actor: events.Actor{ID: "sha256:a", Attributes: map[string]string{"name": "busybox:latest"}},
			TimeNano: t0.Add(time.Duration(i) * time.Second).UnixNano()})
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"since=1700000000&until=1700000010", []string{"pull", "tag", "delete"}},
		{"since=1700000001&until=1700000001.5", []string{"tag"}},
		{"since=1700000000&until=1700000010&filters=" + `{"event":{"delete":true}}`, []string{"delete"}},
		{"since=1700000000&until=1700000010&filters=" + `{"image":{"busybox":true}}`, []string{"pull", "tag", "delete"}},
		{"since=1700000000&until=1700000010&filters=" + `{"type":{"container":true}}`, nil},
	}
	for _, c := range cases {
		status, body := get(t, base+"/events?"+strings.ReplaceAll(c.query, `"`, "%22"))
		var got []string
		dec := json.NewDecoder(strings.NewReader(body))
		for dec.More() {
			var m events.Message
			if err := dec.Decode(&m); err != nil {
				t.Fatalf("%s: %v in %q", c.query, err, body)
			}
			got = append(got, string(m.Action))
		}
		if status != 200 || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %d %v, want %v", c.query, status, got, c.want)
		}
	}
}

func TestVersionAndDiskUsageTypes(t *testing.T) {
	_, base := serve(t)
	status, body := get(t, base+"/v1.24/version")
	var v struct{ ApiVersion, MinAPIVersion, Os string }
	if err := json.Unmarshal([]byte(body), &v); err != nil || status != 200 || v.ApiVersion != "1.51" || v.MinAPIVersion != "1.24" || v.Os != "linux" {
		t.Fatalf("version %d %s", status, body)
	}
	// type= is honoured from API 1.42 on, ignored before (as dockerd).
	_, body = get(t, base+"/v1.42/system/df?type=image")
	if !strings.Contains(body, `"Images":[]`) || !strings.Contains(body, `"Containers":null`) {
		t.Fatalf("df type=image: %s", body)
	}
	_, body = get(t, base+"/v1.41/system/df?type=image")
	if !strings.Contains(body, `"Containers":[]`) {
		t.Fatalf("df before 1.42: %s", body)
	}
}
