package engine

import (
	"context"
	"strings"
	"testing"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/errdefs"
)

func TestContainerBadInput(t *testing.T) {
	d := startDaemon(t)
	loadBusybox(t, d)
	id := strings.TrimSpace(d.docker(t, "create", "--pull=never", "--network", "none", "--name", "taken", "busybox", "true"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "--pull=never", "nosuch"}, "No such image: nosuch:latest"},
		{[]string{"create", "--pull=never", "--name", "taken", "busybox"}, `Conflict. The container name "/taken" is already in use by container "` + id + `". You have to remove (or rename) that container to be able to reuse that name.`},
		{[]string{"create", "--pull=never", "--name", "bad name!", "busybox"}, "Invalid container name (bad name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"},
		{[]string{"create", "--pull=never", "--mount", "type=bind,source=/nonexistent-wharf,target=/x", "busybox"}, `invalid mount config for type "bind": bind source path does not exist: /nonexistent-wharf`},
		{[]string{"create", "--pull=never", "-v", "/tmp:relative", "busybox"}, `invalid volume specification: '/tmp:relative': invalid mount config for type "bind": invalid mount path: 'relative' mount path must be absolute`},
		{[]string{"create", "--pull=never", "-v", "/tmp:/x", "-v", "/var:/x", "busybox"}, "Duplicate mount point: /x"},
		{[]string{"create", "--pull=never", "--memory", "1m", "busybox"}, "Minimum memory limit allowed is 6MB"},
		{[]string{"create", "--pull=never", "--cpus", "0.5", "--cpu-period", "100000", "busybox"}, "Conflicting options: Nano CPUs and CPU Period cannot both be set"},
		{[]string{"create", "--pull=never", "-w", "relative", "busybox"}, "the working directory 'relative' is invalid, it needs to be an absolute path"},
		{[]string{"inspect", "--type", "container", "nosuch"}, "No such container: nosuch"},
		{[]string{"rm", "nosuch"}, "No such container: nosuch"},
		{[]string{"rename", "nosuch", "other"}, "No such container: nosuch"},
		{[]string{"rename", "taken", "taken"}, "Renaming a container with the same name as its current name"},
		{[]string{"start", "nosuch"}, "No such container: nosuch"},
	} {
		out, err := d.dockerErr(tc.args...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("docker %s: %v\n%s\nwant %q", strings.Join(tc.args, " "), err, out, tc.want)
		}
	}
	// Nothing was left behind by the refused creates.
	if got := strings.Fields(d.docker(t, "ps", "-aq", "--no-trunc")); len(got) != 1 || got[0] != id {
		t.Fatalf("containers after refused creates: %v", got)
	}
	// A network that does not exist is refused at create (404), as dockerd.
	if out, err := d.dockerErr("create", "--pull=never", "--network", "nosuch", "busybox", "true"); err == nil || !strings.Contains(out, "network nosuch not found") {
		t.Errorf("create on an unknown network: %v\n%s", err, out)
	}
	if r := d.do(t, "POST", "/v1.51/containers/create", map[string]string{"Content-Type": "application/json"},
		strings.NewReader(`{"Image":"busybox","Cmd":["true"],"HostConfig":{"NetworkMode":"nosuch"}}`)); r.Status != 404 {
		t.Errorf("POST create on an unknown network: %d %s", r.Status, r.Body)
	}
	// Raw API: dockerd's statuses and bodies.
	for _, tc := range []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"GET", "/v1.51/containers/nosuch/json", "", 404, "No such container: nosuch"},
		{"DELETE", "/v1.51/containers/nosuch", "", 404, "No such container: nosuch"},
		{"POST", "/v1.51/containers/create", `{}`, 400, "Config cannot be empty in order to create a container"},
		{"POST", "/v1.51/containers/create", `{"Image":`, 400, "invalid JSON: unexpected EOF"},
		{"POST", "/v1.51/containers/create?name=x/y", `{"Image":"busybox"}`, 400, "Invalid container name (x/y), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"},
		{"POST", "/v1.51/containers/create", `{"Image":"busybox","HostConfig":{"RestartPolicy":{"Name":"sometimes"}}}`, 400, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"},
		{"POST", "/v1.51/containers/create", `{"Image":"busybox","HostConfig":{"AutoRemove":true,"RestartPolicy":{"Name":"always"}}}`, 400, "can't create 'AutoRemove' container with restart policy"},
		{"GET", `/v1.51/containers/json?filters={"bogus":["1"]}`, "", 400, "invalid filter 'bogus'"},
		{"GET", `/v1.51/containers/json?filters={"exited":["x"]}`, "", 400, "invalid filter 'exited=x': strconv.Atoi: parsing \"x\": invalid syntax"},
	} {
		r := d.do(t, tc.method, tc.path, map[string]string{"Content-Type": "application/json"}, strings.NewReader(tc.body))
		if r.Status != tc.status || (tc.msg != "" && r.Body != `{"message":"`+strings.ReplaceAll(tc.msg, `"`, `\"`)+"\"}\n") {
			t.Errorf("%s %s: %d %s, want %d %q", tc.method, tc.path, r.Status, r.Body, tc.status, tc.msg)
		}
	}
}

func TestContainerImageInUse(t *testing.T) {
	d := startDaemon(t)
	imgID := loadBusybox(t, d)
	id := strings.TrimSpace(d.docker(t, "create", "--pull=never", "--network", "none", "busybox", "true"))
	r := d.do(t, "DELETE", "/v1.51/images/busybox", nil, nil)
	if r.Status != 409 || !strings.Contains(r.Body, `conflict: unable to remove repository reference \"busybox\" (must force) - container`) ||
		!strings.Contains(r.Body, imgID[7:19]) {
		t.Fatalf("rmi in use: %d %s", r.Status, r.Body)
	}
	out, err := d.dockerErr("rmi", imgID[7:19])
	if err == nil || !strings.Contains(out, "(must be forced) - image is being used by") {
		t.Fatalf("rmi by id in use: %v %s", err, out)
	}
	// -f only untags: the container keeps its image.
	out = d.docker(t, "rmi", "-f", "busybox")
	if !strings.Contains(out, "Untagged: busybox:latest") || strings.Contains(out, "Deleted:") {
		t.Fatalf("rmi -f: %s", out)
	}
	if got := d.docker(t, "image", "inspect", "--format", "{{.ID}}", imgID); strings.TrimSpace(got) != imgID {
		t.Fatalf("image gone: %q", got)
	}
	c := inspectContainer(t, d, id)
	if c.Image != imgID || c.Config.Image != "busybox" {
		t.Fatalf("container image: %s %s", c.Image, c.Config.Image)
	}
	// ps shows the ID once the name no longer points at the image, as dockerd.
	if got := strings.TrimSpace(d.docker(t, "ps", "-a", "--format", "{{.Image}}")); got != imgID[7:19] && got != imgID {
		t.Fatalf("ps image after untag: %q", got)
	}
	d.docker(t, "rm", id)
	out = d.docker(t, "rmi", imgID)
	if !strings.Contains(out, "Deleted: "+imgID) {
		t.Fatalf("rmi after rm: %s", out)
	}
}

func TestContainerSDK(t *testing.T) {
	d := startDaemon(t)
	loadBusybox(t, d)
	cli := d.client(t)
	ctx := context.Background()
	resp, err := cli.ContainerCreate(ctx, &containertypes.Config{Image: "busybox", Cmd: []string{"echo", "hi there"}, Volumes: map[string]struct{}{"/anon": {}}},
		&containertypes.HostConfig{NetworkMode: "none"}, nil, nil, "sdk-one")
	if err != nil || len(resp.ID) != 64 || resp.Warnings == nil {
		t.Fatalf("create: %+v %v", resp, err)
	}
	list, err := cli.ContainerList(ctx, containertypes.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("name", "sdk-one"))})
	if err != nil || len(list) != 1 || list[0].Command != "echo 'hi there'" || list[0].State != "created" || list[0].Names[0] != "/sdk-one" {
		t.Fatalf("list: %+v %v", list, err)
	}
	c, err := cli.ContainerInspect(ctx, "sdk-one")
	if err != nil || len(c.Mounts) != 1 || c.Mounts[0].Destination != "/anon" || len(c.Mounts[0].Name) != 64 {
		t.Fatalf("inspect: %+v %v", c.Mounts, err)
	}
	anon := c.Mounts[0].Name
	if _, err := cli.ContainerInspect(ctx, "nosuch"); !errdefs.IsNotFound(err) {
		t.Fatalf("inspect missing: %v", err)
	}
	if err := cli.ContainerRename(ctx, "sdk-one", "sdk-two"); err != nil {
		t.Fatal(err)
	}
	// rm -v removes the anonymous volume with the container.
	if err := cli.ContainerRemove(ctx, "sdk-two", containertypes.RemoveOptions{RemoveVolumes: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.VolumeInspect(ctx, anon); !errdefs.IsNotFound(err) {
		t.Fatalf("anonymous volume kept: %v", err)
	}
	rep, err := cli.ContainersPrune(ctx, filters.NewArgs())
	if err != nil || len(rep.ContainersDeleted) != 0 {
		t.Fatalf("prune: %+v %v", rep, err)
	}
	if _, err := cli.ImageRemove(ctx, "busybox", image.RemoveOptions{}); err != nil {
		t.Fatalf("rmi after rm: %v", err)
	}
}

// Debian's 20.10 CLI (API 1.41) creates, lists, inspects and removes too.
func TestContainerDebianCLI(t *testing.T) {
	requireDebianDocker(t)
	d := startDaemon(t)
	loadBusybox(t, d)
	id := strings.TrimSpace(d.debianDocker(t, "create", "--name", "old-cli", "-v", "/srv", "busybox", "sleep", "1"))
	if len(id) != 64 {
		t.Fatalf("create: %q", id)
	}
	if got := strings.TrimSpace(d.debianDocker(t, "ps", "-a", "--format", "{{.ID}} {{.Names}} {{.Status}}")); got != id[:12]+" old-cli Created" {
		t.Fatalf("ps: %q", got)
	}
	if got := strings.TrimSpace(d.debianDocker(t, "inspect", "--format", "{{.State.Status}} {{.Config.Cmd}} {{len .Mounts}}", "old-cli")); got != "created [sleep 1] 1" {
		t.Fatalf("inspect: %q", got)
	}
	d.debianDocker(t, "rm", "-v", "old-cli")
	if got := strings.TrimSpace(d.debianDocker(t, "volume", "ls", "-q")); got != "" {
		t.Fatalf("anonymous volume left: %q", got)
	}
}
