package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
)

func TestImageLoadInspectHistoryTagRmi(t *testing.T) {
	d := startDaemon(t)
	img, tarPath := busyboxTar(t, "busybox:latest")
	out := d.docker(t, "load", "-i", tarPath)
	if !strings.Contains(out, "Loaded image: busybox:latest") {
		t.Fatalf("docker load: %s", out)
	}
	out = d.docker(t, "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
	if strings.TrimSpace(out) != "busybox:latest "+img.ConfigDigest.Encoded()[:12] {
		t.Fatalf("docker images: %q", out)
	}
	ins, err := d.client(t).ImageInspect(context.Background(), "busybox")
	if err != nil {
		t.Fatal(err)
	}
	if ins.ID != img.ID() || len(ins.RootFS.Layers) != 1 || ins.RootFS.Layers[0] != img.Layers[0].DiffID.String() ||
		ins.Config == nil || strings.Join(ins.Config.Cmd, " ") != "sh" || ins.Os != "linux" {
		t.Fatalf("inspect: %+v", ins)
	}
	out = d.docker(t, "history", "--no-trunc", "--format", "{{.ID}} {{.CreatedBy}}", "busybox")
	if strings.TrimSpace(out) != img.ID()+" layer 0" {
		t.Fatalf("history: %q", out)
	}
	d.docker(t, "tag", "busybox", "example.com/tools/bb:v1")
	out = d.docker(t, "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=example.com/*/*")
	if strings.TrimSpace(out) != "example.com/tools/bb:v1" {
		t.Fatalf("filtered images: %q", out)
	}
	// By ID while tagged in two repositories: refused, as dockerd does.
	if out, err := d.dockerErr("rmi", img.ConfigDigest.Encoded()[:12]); err == nil || !strings.Contains(out, "image is referenced in multiple repositories") {
		t.Fatalf("rmi by id: %v %s", err, out)
	}
	out = d.docker(t, "rmi", "example.com/tools/bb:v1")
	if strings.TrimSpace(out) != "Untagged: example.com/tools/bb:v1" {
		t.Fatalf("rmi tag: %q", out)
	}
	out = d.docker(t, "rmi", "busybox")
	if !strings.Contains(out, "Untagged: busybox:latest") || !strings.Contains(out, "Deleted: "+img.ID()) {
		t.Fatalf("rmi: %q", out)
	}
	if out := d.docker(t, "images", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("images after rmi: %q", out)
	}
	if out, err := d.dockerErr("rmi", "busybox"); err == nil || !strings.Contains(out, "No such image: busybox") {
		t.Fatalf("rmi of removed image: %v %s", err, out)
	}
}

func TestImageDebianCLI(t *testing.T) {
	requireDebianDocker(t)
	d := startDaemon(t)
	img, tarPath := busyboxTar(t, "busybox:latest")
	d.debianDocker(t, "load", "-i", tarPath)
	out := d.debianDocker(t, "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
	if strings.TrimSpace(out) != "busybox:latest "+img.ConfigDigest.Encoded()[:12] {
		t.Fatalf("20.10 images: %q", out)
	}
	out = d.debianDocker(t, "inspect", "--format", "{{.Id}} {{index .RootFS.Layers 0}}", "busybox")
	if strings.TrimSpace(out) != img.ID()+" "+img.Layers[0].DiffID.String() {
		t.Fatalf("20.10 inspect: %q", out)
	}
}

// tarFiles reads a tar into name -> content.
func tarFiles(t *testing.T, r io.Reader) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			files[h.Name] = b
		}
	}
}

func TestImageSaveLoadRoundTripAndRestart(t *testing.T) {
	d := startDaemon(t)
	img, tarPath := busyboxTar(t, "busybox:latest")
	d.docker(t, "load", "-q", "-i", tarPath)
	saved := filepath.Join(t.TempDir(), "saved.tar")
	d.docker(t, "save", "-o", saved, "busybox")
	f, err := os.Open(saved)
	if err != nil {
		t.Fatal(err)
	}
	files := tarFiles(t, f)
	f.Close()
	var mj []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &mj); err != nil || len(mj) != 1 {
		t.Fatalf("manifest.json: %v %s", err, files["manifest.json"])
	}
	if strings.Join(mj[0].RepoTags, ",") != "busybox:latest" || !bytes.Equal(files[mj[0].Config], img.Config) {
		t.Fatalf("saved manifest: %+v", mj[0])
	}
	if len(mj[0].Layers) != 1 || !bytes.Equal(files[mj[0].Layers[0]], img.Layers[0].Blob) {
		t.Fatal("saved layer is not byte-identical to the loaded one")
	}
	if _, ok := files["index.json"]; !ok {
		t.Fatal("save has no index.json")
	}
	d.docker(t, "rmi", "busybox")
	out := d.docker(t, "load", "-i", saved)
	if !strings.Contains(out, "Loaded image: busybox:latest") {
		t.Fatalf("reload: %s", out)
	}
	// The store survives a restart of the daemon on the same data root.
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	d2 := startDaemonWith(t, daemonOptions{Args: []string{"--data-root", d.DataRoot}})
	out = d2.docker(t, "inspect", "--format", "{{.Id}}", "busybox:latest")
	if strings.TrimSpace(out) != img.ID() {
		t.Fatalf("after restart: %q", out)
	}
	// Saving by ID via the SDK gives an image without tags.
	rc, err := d2.client(t).ImageSave(context.Background(), []string{img.ID()})
	if err != nil {
		t.Fatal(err)
	}
	files = tarFiles(t, rc)
	rc.Close()
	if !bytes.Contains(files["manifest.json"], []byte(`"RepoTags":[]`)) {
		t.Fatalf("save by id: %s", files["manifest.json"])
	}
}

func TestImageLoadOCILayout(t *testing.T) {
	d := startDaemon(t)
	img, err := testimageSynthetic("ocilayout")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := img.WriteOCILayout(&buf, "example.com/oci/app:2"); err != nil {
		t.Fatal(err)
	}
	resp, err := d.client(t).ImageLoad(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Loaded image: example.com/oci/app:2") {
		t.Fatalf("load OCI layout: %s", body)
	}
	list, err := d.client(t).ImageList(context.Background(), image.ListOptions{})
	if err != nil || len(list) != 1 || list[0].ID != img.ID() {
		t.Fatalf("list: %+v %v", list, err)
	}
}

func TestImageImport(t *testing.T) {
	d := startDaemon(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "etc/motd", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5})
	tw.Write([]byte("hello"))
	tw.Close()
	src := filepath.Join(t.TempDir(), "rootfs.tar")
	os.WriteFile(src, buf.Bytes(), 0o644)
	out := d.docker(t, "import", "--change", `CMD ["/bin/sh"]`, "--change", "ENV FOO=bar", "-m", "imported by test", src, "imported:v1")
	id := strings.TrimSpace(out)
	if !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("import output: %q", out)
	}
	out = d.docker(t, "inspect", "--format", "{{.Id}}|{{.Comment}}|{{json .Config.Cmd}}|{{json .Config.Env}}", "imported:v1")
	if strings.TrimSpace(out) != id+`|imported by test|["/bin/sh"]|["FOO=bar"]` {
		t.Fatalf("inspect imported: %q", out)
	}
	out = d.docker(t, "history", "--format", "{{.Comment}}", "imported:v1")
	if strings.TrimSpace(out) != "imported by test" {
		t.Fatalf("history: %q", out)
	}
}
