package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/filters"
	volumetypes "github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/errdefs"
)

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

func TestVolumeCLI(t *testing.T) {
	d := startDaemon(t)
	if out := d.docker(t, "volume", "create", "--label", "team=a", "data"); strings.TrimSpace(out) != "data" {
		t.Fatalf("create: %q", out)
	}
	d.docker(t, "volume", "create", "--label", "team=b", "other")
	anon := strings.TrimSpace(d.docker(t, "volume", "create"))
	if len(anon) != 64 {
		t.Fatalf("anonymous volume name %q", anon)
	}
	var vols []volumetypes.Volume
	out := d.docker(t, "volume", "inspect", "data")
	if err := json.Unmarshal([]byte(out), &vols); err != nil || len(vols) != 1 {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	v := vols[0]
	if v.Name != "data" || v.Driver != "local" || v.Scope != "local" || v.Labels["team"] != "a" ||
		v.Mountpoint != filepath.Join(d.DataRoot, "volumes", "data", "_data") {
		t.Fatalf("inspect: %+v", v)
	}
	if fi, err := os.Stat(v.Mountpoint); err != nil || !fi.IsDir() {
		t.Fatalf("mountpoint: %v", err)
	}
	if got := lines(d.docker(t, "volume", "ls", "-q")); strings.Join(got, ",") != strings.Join(lines(anon+"\ndata\nother"), ",") {
		t.Fatalf("ls: %v", got)
	}
	if got := d.docker(t, "volume", "ls", "-q", "--filter", "label=team=b"); strings.TrimSpace(got) != "other" {
		t.Fatalf("ls label: %q", got)
	}
	if got := d.docker(t, "volume", "ls", "-q", "--filter", "name=dat", "--filter", "driver=local"); strings.TrimSpace(got) != "data" {
		t.Fatalf("ls name: %q", got)
	}
	if got := d.docker(t, "volume", "ls", "--format", "{{.Name}} {{.Driver}}", "--filter", "dangling=true", "--filter", "label=team"); strings.Join(lines(got), ",") != "data local,other local" {
		t.Fatalf("ls dangling: %q", got)
	}
	// prune: only the anonymous volume by default, then named ones with --all.
	out = d.docker(t, "volume", "prune", "-f")
	if !strings.Contains(out, anon) || strings.Contains(out, "data") || !strings.Contains(out, "Total reclaimed space") {
		t.Fatalf("prune: %s", out)
	}
	out = d.docker(t, "volume", "prune", "-f", "--all", "--filter", "label=team=b")
	if !strings.Contains(out, "other") || strings.Contains(out, "data") {
		t.Fatalf("prune --all: %s", out)
	}
	if out := d.docker(t, "volume", "rm", "data"); strings.TrimSpace(out) != "data" {
		t.Fatalf("rm: %q", out)
	}
	if got := d.docker(t, "volume", "ls", "-q"); strings.TrimSpace(got) != "" {
		t.Fatalf("left: %q", got)
	}
	if _, err := os.Stat(v.Mountpoint); !os.IsNotExist(err) {
		t.Fatalf("data dir left: %v", err)
	}
	// Errors, with dockerd's messages.
	out, err := d.dockerErr("volume", "inspect", "nosuch")
	if err == nil || !strings.Contains(out, "get nosuch: no such volume") {
		t.Fatalf("inspect missing: %v %s", err, out)
	}
	out, err = d.dockerErr("volume", "rm", "nosuch")
	if err == nil || !strings.Contains(out, "get nosuch: no such volume") {
		t.Fatalf("rm missing: %v %s", err, out)
	}
	d.docker(t, "volume", "rm", "-f", "nosuch")
	out, err = d.dockerErr("volume", "create", "bad/name")
	if err == nil || !strings.Contains(out, `"bad/name" includes invalid characters for a local volume name`) {
		t.Fatalf("bad name: %v %s", err, out)
	}
	out, err = d.dockerErr("volume", "create", "-o", "type=tmpfs", "x1")
	if err == nil || !strings.Contains(out, `create x1: missing required option: "device"`) {
		t.Fatalf("bad opts: %v %s", err, out)
	}
	out, err = d.dockerErr("volume", "create", "-d", "nfsplugin", "x2")
	if err == nil || !strings.Contains(out, `plugin "nfsplugin" not found`) {
		t.Fatalf("bad driver: %v %s", err, out)
	}
}

func TestVolumeSDKAndRawAPI(t *testing.T) {
	d := startDaemon(t)
	cli := d.client(t)
	ctx := context.Background()
	v, err := cli.VolumeCreate(ctx, volumetypes.CreateOptions{Name: "tmp", DriverOpts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}})
	if err != nil || v.Options["type"] != "tmpfs" || v.Options["o"] != "size=1m" {
		t.Fatalf("create: %+v %v", v, err)
	}
	list, err := cli.VolumeList(ctx, volumetypes.ListOptions{Filters: filters.NewArgs(filters.Arg("name", "tmp"))})
	if err != nil || len(list.Volumes) != 1 || list.Volumes[0].Name != "tmp" {
		t.Fatalf("list: %+v %v", list, err)
	}
	// A volume with options is never pruned, even with all=true.
	rep, err := cli.VolumesPrune(ctx, filters.NewArgs(filters.Arg("all", "true")))
	if err != nil || len(rep.VolumesDeleted) != 0 {
		t.Fatalf("prune: %+v %v", rep, err)
	}
	if _, err := cli.VolumeInspect(ctx, "nosuch"); !errdefs.IsNotFound(err) {
		t.Fatalf("inspect missing: %v", err)
	}
	// Raw API: status codes and bodies as dockerd's.
	r := d.do(t, "POST", "/v1.51/volumes/create", map[string]string{"Content-Type": "application/json"}, strings.NewReader(`{"Name":"raw"}`))
	if r.Status != 201 || !strings.Contains(r.Body, `"Name":"raw"`) {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	r = d.do(t, "GET", "/v1.51/volumes", nil, nil)
	if r.Status != 200 || !strings.Contains(r.Body, `"Volumes":[`) || !strings.Contains(r.Body, `"Warnings":`) {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	r = d.do(t, "GET", `/v1.51/volumes?filters={"bogus":["x"]}`, nil, nil)
	if r.Status != 400 || r.Body != "{\"message\":\"invalid filter 'bogus'\"}\n" {
		t.Fatalf("bad filter: %d %s", r.Status, r.Body)
	}
	r = d.do(t, "POST", "/v1.51/volumes/create", map[string]string{"Content-Type": "application/json"}, strings.NewReader(`{"Name":`))
	if r.Status != 400 {
		t.Fatalf("bad json: %d %s", r.Status, r.Body)
	}
	r = d.do(t, "DELETE", "/v1.51/volumes/raw", nil, nil)
	if r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	r = d.do(t, "GET", "/v1.51/volumes/raw", nil, nil)
	if r.Status != 404 || r.Body != "{\"message\":\"get raw: no such volume\"}\n" {
		t.Fatalf("get deleted: %d %s", r.Status, r.Body)
	}
	// Records survive a daemon restart (same data root).
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	d2 := startDaemonWith(t, daemonOptions{Args: []string{"--data-root", d.DataRoot}})
	if out := d2.docker(t, "volume", "ls", "-q"); strings.TrimSpace(out) != "tmp" {
		t.Fatalf("after restart: %q", out)
	}
}
