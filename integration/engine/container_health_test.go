package engine

import (
	"strconv"
	"strings"
	"testing"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
)

// healthOf polls inspect until cond holds for the container's health,
// and returns it.
func (d *daemonProc) healthOf(t *testing.T, name, what string, cond func(*containertypes.Health) bool) *containertypes.Health {
	t.Helper()
	var h *containertypes.Health
	poll(t, name+" to be "+what, func() bool {
		h = inspectContainer(t, d, name).State.Health
		return h != nil && cond(h)
	})
	return h
}

func lastResult(h *containertypes.Health) *containertypes.HealthcheckResult {
	if len(h.Log) == 0 {
		return &containertypes.HealthcheckResult{}
	}
	return h.Log[len(h.Log)-1]
}

// Healthchecks through the real CLI, with short intervals; every wait is a
// poll of inspect with a generous deadline.
func TestContainerHealthcheck(t *testing.T) {
	d := runDaemon(t)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)

	t.Run("unhealthy, healthy, unhealthy", func(t *testing.T) {
		d.docker(t, runArgs("-d", "--name", "hc", "--health-cmd", "cat /tmp/health", "--health-interval", "50ms",
			"--health-retries", "2", "busybox", "sleep", "600")...)
		d.removeOnCleanup(t, "hc")
		h := d.healthOf(t, "hc", "unhealthy", func(h *containertypes.Health) bool { return h.Status == "unhealthy" })
		if h.FailingStreak < 2 || lastResult(h).ExitCode != 1 || !strings.Contains(lastResult(h).Output, "No such file") {
			t.Fatalf("unhealthy: streak %d, last %+v", h.FailingStreak, lastResult(h))
		}
		if st := strings.TrimSpace(d.docker(t, "ps", "--filter", "name=hc", "--format", "{{.Status}}")); !strings.HasSuffix(st, "(unhealthy)") {
			t.Fatalf("ps shows %q", st)
		}

		d.docker(t, "exec", "hc", "sh", "-c", "echo fine > /tmp/health")
		h = d.healthOf(t, "hc", "healthy", func(h *containertypes.Health) bool { return h.Status == "healthy" })
		if h.FailingStreak != 0 || lastResult(h).ExitCode != 0 || lastResult(h).Output != "fine\n" || len(h.Log) > 5 {
			t.Fatalf("healthy: streak %d, %d results, last %+v", h.FailingStreak, len(h.Log), lastResult(h))
		}
		if st := strings.TrimSpace(d.docker(t, "ps", "--filter", "name=hc", "--format", "{{.Status}}")); !strings.HasSuffix(st, "(healthy)") {
			t.Fatalf("ps shows %q", st)
		}
		if ids := strings.TrimSpace(d.docker(t, "ps", "-q", "--filter", "health=healthy")); ids == "" {
			t.Fatal("ps --filter health=healthy lists nothing")
		}

		d.docker(t, "exec", "hc", "rm", "/tmp/health")
		d.healthOf(t, "hc", "unhealthy again", func(h *containertypes.Health) bool { return h.Status == "unhealthy" })

		// Every change of status was an event.
		out := d.docker(t, "events", "--since", since, "--until", strconv.FormatInt(time.Now().Unix()+1, 10),
			"--filter", "container=hc", "--filter", "event=health_status", "--format", "{{.Action}}")
		if want := "health_status: unhealthy\nhealth_status: healthy\nhealth_status: unhealthy\n"; out != want {
			t.Fatalf("events:\n%s\nwant:\n%s", out, want)
		}

		d.docker(t, "stop", "-t", "0", "hc")
		d.healthOf(t, "hc", "unhealthy once stopped", func(h *containertypes.Health) bool { return h.Status == "unhealthy" })
	})
	t.Run("start period", func(t *testing.T) {
		// Failures within the start period do not count: the container
		// stays "starting" however many probes fail.
		d.docker(t, runArgs("-d", "--name", "hcstart", "--health-cmd", "false", "--health-interval", "50ms",
			"--health-start-interval", "50ms", "--health-start-period", "1h", "--health-retries", "1", "busybox", "sleep", "600")...)
		d.removeOnCleanup(t, "hcstart")
		h := d.healthOf(t, "hcstart", "probed 3 times", func(h *containertypes.Health) bool { return len(h.Log) >= 3 })
		if h.Status != "starting" || h.FailingStreak != 0 {
			t.Fatalf("in the start period: %s, streak %d", h.Status, h.FailingStreak)
		}
		if st := strings.TrimSpace(d.docker(t, "ps", "--filter", "name=hcstart", "--format", "{{.Status}}")); !strings.HasSuffix(st, "(health: starting)") {
			t.Fatalf("ps shows %q", st)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		d.docker(t, runArgs("-d", "--name", "hcslow", "--health-cmd", "sleep 600", "--health-interval", "50ms",
			"--health-timeout", "100ms", "--health-retries", "1", "busybox", "sleep", "600")...)
		d.removeOnCleanup(t, "hcslow")
		h := d.healthOf(t, "hcslow", "unhealthy", func(h *containertypes.Health) bool { return h.Status == "unhealthy" })
		if r := lastResult(h); r.ExitCode != -1 || !strings.Contains(r.Output, "Health check exceeded timeout (100ms)") {
			t.Fatalf("last result %+v", r)
		}
		// The slow probes were killed, not left to pile up.
		if out := d.docker(t, "top", "hcslow"); strings.Count(out, "sleep 600") > 2 {
			t.Fatalf("probes left running:\n%s", out)
		}
	})
	t.Run("no healthcheck", func(t *testing.T) {
		d.docker(t, runArgs("-d", "--name", "hcnone", "--no-healthcheck", "busybox", "sleep", "600")...)
		d.removeOnCleanup(t, "hcnone")
		if h := inspectContainer(t, d, "hcnone").State.Health; h != nil {
			t.Fatalf("health %+v", h)
		}
	})
}
