package engine

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/docker/docker/api/types"
)

// /info and /system/df count what the image store holds.
func TestInfoAndDiskUsageCountImages(t *testing.T) {
	d := startDaemon(t)
	imp := exec.Command(dockerCLI, "-H", d.Host, "import", "-", "wharf-test/df:1")
	imp.Env = d.cliEnv()
	imp.Stdin = bytes.NewReader(tinyRootfs(t))
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("docker import: %v\n%s", err, out)
	}
	if out := d.docker(t, "info", "--format", "{{.Images}}"); strings.TrimSpace(out) != "1" {
		t.Fatalf("info images: %q", out)
	}
	out := d.docker(t, "system", "df", "--format", "{{.Type}} {{.TotalCount}}")
	if !strings.HasPrefix(out, "Images 1\n") {
		t.Fatalf("system df: %q", out)
	}
	du, err := d.client(t).DiskUsage(t.Context(), types.DiskUsageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(du.Images) != 1 || du.Images[0].RepoTags[0] != "wharf-test/df:1" || du.LayersSize <= 0 || du.Containers == nil || du.Volumes == nil || du.BuildCache == nil {
		t.Fatalf("df %+v", du)
	}
}
