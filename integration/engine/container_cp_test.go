package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// docker cp both ways through the real CLI: files and trees, "dir/." for
// the contents, stdout as a tar, created, running and exited containers,
// volumes, read-only places, and symlinks that try to lead out of the
// container.
func TestContainerCopy(t *testing.T) {
	d := runDaemon(t)
	d.docker(t, runArgs("-d", "--name", "cprun", "-v", "cpvol:/vol", "busybox", "sleep", "600")...)
	d.removeOnCleanup(t, "cprun")
	t.Cleanup(func() { _, _ = d.dockerErr("volume", "rm", "cpvol") })

	t.Run("file out and in", func(t *testing.T) {
		dir := t.TempDir()
		d.docker(t, "cp", "cprun:/etc/passwd", dir)
		if b, err := os.ReadFile(filepath.Join(dir, "passwd")); err != nil || string(b) != "root:x:0:0:root:/root:/bin/sh\n" {
			t.Fatalf("copied out %q %v", b, err)
		}
		src := filepath.Join(dir, "in.txt")
		if err := os.WriteFile(src, []byte("from the host\n"), 0o640); err != nil {
			t.Fatal(err)
		}
		d.docker(t, "cp", src, "cprun:/tmp/")
		if out := d.docker(t, "exec", "cprun", "sh", "-c", "cat /tmp/in.txt; stat -c %a /tmp/in.txt"); out != "from the host\n640\n" {
			t.Fatalf("in the container: %q", out)
		}
		// -L copies what a symlink points to, resolved in the container.
		d.docker(t, "exec", "cprun", "sh", "-c", "ln -s /etc/passwd /tmp/plink")
		d.docker(t, "cp", "-L", "cprun:/tmp/plink", dir)
		if b, err := os.ReadFile(filepath.Join(dir, "plink")); err != nil || string(b) != "root:x:0:0:root:/root:/bin/sh\n" {
			t.Fatalf("cp -L: %q %v", b, err)
		}
		// To a new name in an existing directory.
		d.docker(t, "cp", src, "cprun:/tmp/renamed.txt")
		if out := d.docker(t, "exec", "cprun", "cat", "/tmp/renamed.txt"); out != "from the host\n" {
			t.Fatalf("renamed: %q", out)
		}
	})
	t.Run("trees", func(t *testing.T) {
		d.docker(t, "exec", "cprun", "sh", "-c", "mkdir -p /tree/sub && echo a > /tree/a && echo b > /tree/sub/b && ln -s a /tree/link")
		dir := t.TempDir()
		d.docker(t, "cp", "cprun:/tree", dir)
		if b, _ := os.ReadFile(filepath.Join(dir, "tree", "sub", "b")); string(b) != "b\n" {
			t.Fatalf("tree/sub/b: %q", b)
		}
		if l, err := os.Readlink(filepath.Join(dir, "tree", "link")); err != nil || l != "a" {
			t.Fatalf("tree/link: %q %v", l, err)
		}
		// "dir/." copies the contents into an existing directory.
		into := filepath.Join(dir, "contents")
		if err := os.Mkdir(into, 0o755); err != nil {
			t.Fatal(err)
		}
		d.docker(t, "cp", "cprun:/tree/.", into)
		if b, _ := os.ReadFile(filepath.Join(into, "sub", "b")); string(b) != "b\n" {
			t.Fatalf("contents/sub/b: %q", b)
		}
		// And back in under a new name.
		d.docker(t, "cp", filepath.Join(dir, "tree"), "cprun:/tree2")
		if out := d.docker(t, "exec", "cprun", "sh", "-c", "cat /tree2/sub/b; readlink /tree2/link"); out != "b\na\n" {
			t.Fatalf("tree2: %q", out)
		}
	})
	t.Run("to stdout as a tar", func(t *testing.T) {
		out := d.docker(t, "cp", "cprun:/tree", "-")
		var names []string
		tr := tar.NewReader(strings.NewReader(out))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("tar: %v", err)
			}
			names = append(names, h.Name)
		}
		sort.Strings(names)
		if got := strings.Join(names, " "); got != "tree/ tree/a tree/link tree/sub/ tree/sub/b" {
			t.Fatalf("entries %s", got)
		}
	})
	t.Run("from stdin as a tar", func(t *testing.T) {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		body := []byte("tarred\n")
		_ = tw.WriteHeader(&tar.Header{Name: "fromtar/", Typeflag: tar.TypeDir, Mode: 0o755})
		_ = tw.WriteHeader(&tar.Header{Name: "fromtar/f", Typeflag: tar.TypeReg, Mode: 0o600, Size: int64(len(body)), Uid: 7, Gid: 8})
		_, _ = tw.Write(body)
		_ = tw.Close()
		if out, code := d.dockerCode(t, &buf, "cp", "-", "cprun:/tmp"); code != 0 {
			t.Fatalf("cp - : exit %d %s", code, out)
		}
		if out := d.docker(t, "exec", "cprun", "sh", "-c", "cat /tmp/fromtar/f; stat -c %u:%g /tmp/fromtar/f"); out != "tarred\n7:8\n" {
			t.Fatalf("from the tar: %q", out)
		}
	})
	t.Run("volume", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "v.txt")
		if err := os.WriteFile(src, []byte("into the volume\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		d.docker(t, "cp", src, "cprun:/vol/")
		if out := d.docker(t, runArgs("--rm", "-v", "cpvol:/other", "busybox", "cat", "/other/v.txt")...); out != "into the volume\n" {
			t.Fatalf("another container reads %q", out)
		}
	})
	t.Run("created and exited containers", func(t *testing.T) {
		d.docker(t, "create", "--pull=never", "--network", "none", "--name", "cpcreated", "busybox", "cat", "/data")
		d.removeOnCleanup(t, "cpcreated")
		src := filepath.Join(t.TempDir(), "x")
		if err := os.WriteFile(src, []byte("before start\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		d.docker(t, "exec", "cprun", "true") // the running one is not disturbed
		d.docker(t, "cp", src, "cpcreated:/data")
		if out := d.docker(t, "start", "-a", "cpcreated"); out != "before start\n" {
			t.Fatalf("the program reads %q", out)
		}
		d.docker(t, runArgs("--name", "cpexited", "busybox", "sh", "-c", "echo left behind > /result")...)
		d.removeOnCleanup(t, "cpexited")
		dir := t.TempDir()
		d.docker(t, "cp", "cpexited:/result", dir)
		if b, _ := os.ReadFile(filepath.Join(dir, "result")); string(b) != "left behind\n" {
			t.Fatalf("result: %q", b)
		}
	})
	t.Run("errors", func(t *testing.T) {
		out, code := d.dockerCode(t, nil, "cp", "cprun:/no/such/file", t.TempDir())
		if code == 0 || !strings.Contains(out, "Could not find the file /no/such/file in container") {
			t.Fatalf("missing path: exit %d %s", code, out)
		}
		out, code = d.dockerCode(t, nil, "cp", "nosuchcontainer:/etc", t.TempDir())
		if code == 0 || !strings.Contains(out, "No such container") {
			t.Fatalf("missing container: exit %d %s", code, out)
		}
		d.docker(t, runArgs("-d", "--name", "cpro", "--read-only", "busybox", "sleep", "600")...)
		d.removeOnCleanup(t, "cpro")
		src := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, code = d.dockerCode(t, nil, "cp", src, "cpro:/tmp/")
		if code == 0 || !strings.Contains(out, "container rootfs is marked read-only") {
			t.Fatalf("read-only rootfs: exit %d %s", code, out)
		}
		d.docker(t, runArgs("-d", "--name", "cprovol", "-v", t.TempDir()+":/ro:ro", "busybox", "sleep", "600")...)
		d.removeOnCleanup(t, "cprovol")
		out, code = d.dockerCode(t, nil, "cp", src, "cprovol:/ro/")
		if code == 0 || !strings.Contains(out, "marked read-only") {
			t.Fatalf("read-only bind: exit %d %s", code, out)
		}
	})
	t.Run("symlinks stay inside", func(t *testing.T) {
		host := t.TempDir()
		secret := filepath.Join(host, "secret")
		if err := os.WriteFile(secret, []byte("host only\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		// Links to the host's directory, absolute and climbing: in the
		// container they mean the container's own paths.
		d.docker(t, "exec", "cprun", "sh", "-c", "ln -s "+host+" /abs && ln -s ../../../../../../../.."+host+" /tmp/rel && mkdir -p "+host)
		for _, p := range []string{"/abs/secret", "/tmp/rel/secret"} {
			out, code := d.dockerCode(t, nil, "cp", "cprun:"+p, t.TempDir())
			if code == 0 || !strings.Contains(out, "Could not find the file") {
				t.Fatalf("cp out of %s: exit %d %s", p, code, out)
			}
		}
		src := filepath.Join(t.TempDir(), "dropped")
		if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/abs/", "/tmp/rel/"} {
			d.docker(t, "cp", src, "cprun:"+p)
		}
		if ents, _ := os.ReadDir(host); len(ents) != 1 {
			t.Fatalf("the host directory changed: %v", ents)
		}
		if out := d.docker(t, "exec", "cprun", "ls", host); out != "dropped\n" {
			t.Fatalf("the container's %s holds %q", host, out)
		}
		// A tar whose entries climb out or go through a planted link.
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		_ = tw.WriteHeader(&tar.Header{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: host, Mode: 0o777})
		_ = tw.WriteHeader(&tar.Header{Name: "esc/planted", Typeflag: tar.TypeReg, Mode: 0o644})
		_ = tw.Close()
		_, _ = d.dockerCode(t, &buf, "cp", "-", "cprun:/tmp")
		if _, err := os.Stat(filepath.Join(host, "planted")); err == nil {
			t.Fatal("a tar entry through a symlink reached the host")
		}
	})
	t.Run("stat through the SDK", func(t *testing.T) {
		st, err := d.client(t).ContainerStatPath(context.Background(), "cprun", "/abs")
		if err != nil {
			t.Fatal(err)
		}
		if st.Name != "abs" || st.Mode&os.ModeSymlink == 0 || st.LinkTarget == "" {
			t.Fatalf("stat %+v", st)
		}
	})
}
