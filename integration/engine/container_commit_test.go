package engine

import (
	"archive/tar"
	"io"
	"strings"
	"testing"
)

// docker diff, export and commit through the real CLI, on both
// snapshotters: the changes a container made are listed (mount point
// stubs are not), exported with the rest of its tree, and become the top
// layer of an image that runs.
func TestContainerDiffExportCommit(t *testing.T) {
	for driver, shown := range map[string]string{"overlay": "overlayfs", "native": "native"} {
		t.Run(driver, func(t *testing.T) {
			d := startDaemonWith(t, daemonOptions{Args: []string{"--storage-driver", driver}})
			loadBusybox(t, d)
			if got := strings.TrimSpace(d.docker(t, "info", "-f", "{{.Driver}}")); got != shown {
				t.Fatalf("the daemon runs %q", got)
			}
			testDiffExportCommit(t, d)
		})
	}
}

func testDiffExportCommit(t *testing.T, d *daemonProc) {
	t.Run("nothing changed", func(t *testing.T) {
		d.docker(t, runArgs("--name", "fresh", "busybox", "true")...)
		d.removeOnCleanup(t, "fresh")
		if out := d.docker(t, "diff", "fresh"); out != "" {
			t.Fatalf("a container that changed nothing: %q", out)
		}
	})

	d.docker(t, runArgs("--name", "chg", "busybox", "sh", "-c",
		"echo new > /tmp/added && echo changed >> /etc/passwd && rm /bin/true && mkdir -p /newdir/sub && touch /newdir/sub/f")...)
	d.removeOnCleanup(t, "chg")

	t.Run("diff", func(t *testing.T) {
		want := "C /bin\nD /bin/true\nC /etc/passwd\nA /newdir\nA /newdir/sub\nA /newdir/sub/f\nC /tmp\nA /tmp/added\n"
		if out := d.docker(t, "diff", "chg"); out != want {
			t.Fatalf("diff:\n%s\nwant:\n%s", out, want)
		}
	})
	t.Run("export", func(t *testing.T) {
		out := d.docker(t, "export", "chg")
		names := map[string]bool{}
		tr := tar.NewReader(strings.NewReader(out))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("tar: %v", err)
			}
			names[h.Name] = true
			if h.Name == "tmp/added" {
				if b, _ := io.ReadAll(tr); string(b) != "new\n" {
					t.Fatalf("tmp/added holds %q", b)
				}
			}
		}
		for _, n := range []string{"bin/busybox", "tmp/added", "newdir/sub/f", "etc/passwd"} {
			if !names[n] {
				t.Errorf("export lacks %s", n)
			}
		}
		if names["bin/true"] {
			t.Error("export has the deleted bin/true")
		}
	})
	t.Run("commit and run", func(t *testing.T) {
		id := strings.TrimSpace(d.docker(t, "commit", "-a", "tester", "-m", "the message", "-c", "ENV COMMITTED=yes", "chg", "committed:v1"))
		if !strings.HasPrefix(id, "sha256:") {
			t.Fatalf("commit printed %q", id)
		}
		out := d.docker(t, runArgs("--rm", "committed:v1", "sh", "-c",
			`cat /tmp/added; grep changed /etc/passwd; ls /newdir/sub; test -e /bin/true && echo has-true || echo no-true; echo $COMMITTED`)...)
		if out != "new\nchanged\nf\nno-true\nyes\n" {
			t.Fatalf("the committed image runs with %q", out)
		}
		if got := d.inspectField(t, "committed:v1", "{{.Author}}|{{.Comment}}|{{len .RootFS.Layers}}|{{.Id}}"); got != "tester|the message|2|"+id {
			t.Fatalf("inspect: %s", got)
		}
		d.docker(t, "commit", "--change", `CMD ["cat", "/tmp/added"]`, "chg", "cmdimg")
		if out := d.docker(t, runArgs("--rm", "cmdimg")...); out != "new\n" {
			t.Fatalf("CMD from --change: %q", out)
		}
	})
	t.Run("deleted and recreated directory", func(t *testing.T) {
		d.docker(t, runArgs("--name", "redo", "committed:v1", "sh", "-c", "rm -rf /newdir && mkdir /newdir && echo x > /newdir/other")...)
		d.removeOnCleanup(t, "redo")
		want := "C /newdir\nA /newdir/other\nD /newdir/sub\n"
		if out := d.docker(t, "diff", "redo"); out != want {
			t.Fatalf("diff:\n%s\nwant:\n%s", out, want)
		}
		d.docker(t, "commit", "redo", "redone")
		if out := d.docker(t, runArgs("--rm", "redone", "ls", "/newdir")...); out != "other\n" {
			t.Fatalf("/newdir of the new image: %q", out)
		}
	})
	t.Run("commit a running container", func(t *testing.T) {
		d.docker(t, runArgs("-d", "--name", "live", "busybox", "sh", "-c", "echo running > /live; exec sleep 600")...)
		d.removeOnCleanup(t, "live")
		poll(t, "/live to be written", func() bool {
			out, err := d.dockerErr("exec", "live", "cat", "/live")
			return err == nil && out == "running\n"
		})
		d.docker(t, "commit", "live", "liveimg")
		if st := d.inspectField(t, "live", "{{.State.Status}}"); st != "running" {
			t.Fatalf("after commit the container is %s", st)
		}
		if out := d.docker(t, runArgs("--rm", "liveimg", "cat", "/live")...); out != "running\n" {
			t.Fatalf("liveimg: %q", out)
		}
	})
	t.Run("errors", func(t *testing.T) {
		out, code := d.dockerCode(t, nil, "diff", "nosuchcontainer")
		if code == 0 || !strings.Contains(out, "No such container") {
			t.Fatalf("diff of nothing: exit %d %s", code, out)
		}
		out, code = d.dockerCode(t, nil, "commit", "nosuchcontainer", "x")
		if code == 0 || !strings.Contains(out, "No such container") {
			t.Fatalf("commit of nothing: exit %d %s", code, out)
		}
		out, code = d.dockerCode(t, nil, "commit", "-c", "BOGUS x", "chg", "bogus")
		if code == 0 || !strings.Contains(out, "not a valid change command") {
			t.Fatalf("bad change: exit %d %s", code, out)
		}
	})
}
