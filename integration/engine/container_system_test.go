package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types"
)

// /info counts containers by state; /system/df lists containers and volumes.
func TestContainerInfoAndDiskUsage(t *testing.T) {
	d := startDaemon(t)
	loadBusybox(t, d)
	d.docker(t, "create", "--pull=never", "--network", "none", "--name", "df-one", "-v", "dfvol:/v", "busybox", "true")
	d.docker(t, "create", "--pull=never", "--network", "none", "busybox", "true")
	if got := strings.TrimSpace(d.docker(t, "info", "--format", "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}}")); got != "2 0 0 2" {
		t.Fatalf("info: %q", got)
	}
	du, err := d.client(t).DiskUsage(context.Background(), types.DiskUsageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(du.Containers) != 2 || len(du.Volumes) != 1 || du.Volumes[0].Name != "dfvol" || du.Volumes[0].UsageData == nil || du.Volumes[0].UsageData.RefCount != 1 {
		t.Fatalf("df: %d containers, volumes %+v", len(du.Containers), du.Volumes)
	}
	out := d.docker(t, "system", "df")
	if !strings.Contains(out, "Containers") || !strings.Contains(out, "Local Volumes") {
		t.Fatalf("system df: %s", out)
	}
	if got := strings.TrimSpace(d.docker(t, "ps", "-a", "-s", "--format", "{{.Names}} {{.Size}}", "--filter", "name=df-one")); !strings.HasPrefix(got, "df-one ") || !strings.Contains(got, "(virtual ") {
		t.Fatalf("ps -s: %q", got)
	}
}
