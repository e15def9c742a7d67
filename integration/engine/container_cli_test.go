package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	containertypes "github.com/docker/docker/api/types/container"
)

// loadBusybox loads the test busybox image as busybox:latest.
func loadBusybox(t *testing.T, d *daemonProc) string {
	t.Helper()
	img, tarPath := busyboxTar(t, "busybox:latest")
	d.docker(t, "load", "-q", "-i", tarPath)
	return img.ID()
}

func inspectContainer(t *testing.T, d *daemonProc, name string) containertypes.InspectResponse {
	t.Helper()
	var out []containertypes.InspectResponse
	raw := d.docker(t, "container", "inspect", name)
	if err := json.Unmarshal([]byte(raw), &out); err != nil || len(out) != 1 {
		t.Fatalf("inspect %s: %v\n%s", name, err, raw)
	}
	return out[0]
}

func TestContainerCreateInspectRenameRm(t *testing.T) {
	d := startDaemon(t)
	imgID := loadBusybox(t, d)
	id := strings.TrimSpace(d.docker(t, "create", "--pull=never", "--name", "web", "--network", "none",
		"-e", "A=1", "-w", "/tmp", "--label", "tier=front", "-v", "data:/data", "--tmpfs", "/run:size=1m",
		"--memory", "64m", "--cpus", "0.5", "--pids-limit", "50", "--cap-drop", "NET_RAW", "--read-only",
		"busybox", "sleep", "60"))
	if len(id) != 64 {
		t.Fatalf("create printed %q", id)
	}
	c := inspectContainer(t, d, "web")
	if c.ID != id || c.Name != "/web" || c.Image != imgID || c.State.Status != "created" || c.State.Running ||
		c.Path != "sleep" || strings.Join(c.Args, " ") != "60" || c.Config.Image != "busybox" ||
		c.Config.WorkingDir != "/tmp" || c.Config.Hostname != id[:12] || c.Config.Labels["tier"] != "front" ||
		c.Platform != "linux" || c.State.StartedAt != "0001-01-01T00:00:00Z" {
		t.Fatalf("inspect: %+v\nstate %+v\nconfig %+v", c.ContainerJSONBase, c.State, c.Config)
	}
	hc := c.HostConfig
	if hc.Memory != 64<<20 || hc.MemorySwap != 128<<20 || hc.NanoCPUs != 5e8 || *hc.PidsLimit != 50 ||
		!hc.ReadonlyRootfs || hc.ShmSize != 64<<20 || string(hc.NetworkMode) != "none" || hc.Tmpfs["/run"] != "size=1m" ||
		strings.Join(hc.CapDrop, ",") != "CAP_NET_RAW" {
		t.Fatalf("hostconfig: %+v", hc)
	}
	if len(c.Mounts) != 1 || c.Mounts[0].Type != "volume" || c.Mounts[0].Name != "data" || c.Mounts[0].Destination != "/data" ||
		!c.Mounts[0].RW || c.Mounts[0].Source != filepath.Join(d.DataRoot, "volumes", "data", "_data") {
		t.Fatalf("mounts: %+v", c.Mounts)
	}
	var env bool
	for _, e := range c.Config.Env {
		env = env || e == "A=1"
	}
	if !env {
		t.Fatalf("env: %v", c.Config.Env)
	}
	// The record is on disk where dockerd keeps it.
	for _, f := range []string{"config.v2.json", "hostconfig.json"} {
		if _, err := os.Stat(filepath.Join(d.DataRoot, "containers", id, f)); err != nil {
			t.Fatal(err)
		}
	}
	// Resolution by unique prefix and by name; rename.
	if got := inspectContainer(t, d, id[:10]); got.ID != id {
		t.Fatal("prefix lookup")
	}
	d.docker(t, "rename", "web", "api")
	if got := inspectContainer(t, d, "api"); got.Name != "/api" {
		t.Fatalf("after rename: %q", got.Name)
	}
	out, err := d.dockerErr("inspect", "--type", "container", "web")
	if err == nil || !strings.Contains(out, "No such container: web") {
		t.Fatalf("old name: %v %s", err, out)
	}
	// The volume is in use until the container goes.
	out, err = d.dockerErr("volume", "rm", "data")
	if err == nil || !strings.Contains(out, "remove data: volume is in use - ["+id+"]") {
		t.Fatalf("volume rm in use: %v %s", err, out)
	}
	if got := d.docker(t, "volume", "ls", "-q", "--filter", "dangling=true"); strings.TrimSpace(got) != "" {
		t.Fatalf("dangling while used: %q", got)
	}
	if out := d.docker(t, "rm", "api"); strings.TrimSpace(out) != "api" {
		t.Fatalf("rm: %q", out)
	}
	if _, err := os.Stat(filepath.Join(d.DataRoot, "containers", id)); !os.IsNotExist(err) {
		t.Fatalf("container dir left: %v", err)
	}
	d.docker(t, "volume", "rm", "data")
}

func TestContainerPsFilters(t *testing.T) {
	d := startDaemon(t)
	loadBusybox(t, d)
	create := func(args ...string) string {
		t.Helper()
		return strings.TrimSpace(d.docker(t, append([]string{"create", "--pull=never", "--network", "none"}, args...)...))
	}
	a := create("--name", "c-a", "--label", "app=x", "busybox", "true")
	b := create("--name", "c-b", "-v", "vol1:/v", "busybox", "true")
	c := create("--name", "c-c", "--label", "app=y", "busybox", "true")
	ps := func(args ...string) string {
		t.Helper()
		return strings.Join(strings.Fields(d.docker(t, append([]string{"ps", "-q", "--no-trunc"}, args...)...)), ",")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""}, // none running
		{[]string{"-a"}, c + "," + b + "," + a},
		{[]string{"-a", "--filter", "label=app"}, c + "," + a},
		{[]string{"-a", "--filter", "label=app=x"}, a},
		{[]string{"-a", "--filter", "name=c-b"}, b},
		{[]string{"-a", "--filter", "id=" + a[:8]}, a},
		{[]string{"--filter", "status=created"}, c + "," + b + "," + a},
		{[]string{"-a", "--filter", "status=exited"}, ""},
		{[]string{"-a", "--filter", "exited=0"}, ""},
		{[]string{"-a", "--filter", "ancestor=busybox"}, c + "," + b + "," + a},
		{[]string{"-a", "--filter", "before=c-c"}, b + "," + a},
		{[]string{"-a", "--filter", "since=c-a"}, c + "," + b},
		{[]string{"-a", "--filter", "volume=vol1"}, b},
		{[]string{"-a", "--filter", "volume=/v"}, b},
		{[]string{"-a", "--filter", "network=none"}, c + "," + b + "," + a},
		{[]string{"-n", "1"}, c},
		{[]string{"-l"}, c},
	} {
		if got := ps(tc.args...); got != tc.want {
			t.Errorf("ps %v = %s, want %s", tc.args, got, tc.want)
		}
	}
	out := d.docker(t, "ps", "-a", "--format", "{{.Names}}|{{.Image}}|{{.Command}}|{{.Status}}|{{.Labels}}", "--filter", "name=c-a")
	if strings.TrimSpace(out) != `c-a|busybox|"true"|Created|app=x` {
		t.Fatalf("ps format: %q", out)
	}
	out, err := d.dockerErr("ps", "--filter", "status=sleeping")
	if err == nil || !strings.Contains(out, "invalid filter 'status=sleeping'") {
		t.Fatalf("bad status: %v %s", err, out)
	}
	// prune removes every container that is not running.
	out = d.docker(t, "container", "prune", "-f", "--filter", "label=app")
	if !strings.Contains(out, a) || !strings.Contains(out, c) || strings.Contains(out, b) {
		t.Fatalf("prune: %s", out)
	}
	out = d.docker(t, "container", "prune", "-f")
	if !strings.Contains(out, b) {
		t.Fatalf("prune all: %s", out)
	}
	if got := ps("-a"); got != "" {
		t.Fatalf("left after prune: %s", got)
	}
}
