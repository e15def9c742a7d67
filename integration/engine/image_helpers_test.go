package engine

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/internal/testimage"
	"github.com/wharf-project/wharf/internal/testregistry"
)

// busyboxTar builds the busybox test image (from Debian's busybox-static)
// and writes it as a `docker save` tar tagged with tags; it returns the
// image and the tar's path.
func busyboxTar(t *testing.T, tags ...string) (*testimage.Image, string) {
	t.Helper()
	img, err := testimage.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	return img, saveTar(t, img, tags...)
}

func saveTar(t *testing.T, img *testimage.Image, tags ...string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := img.WriteDockerSave(&buf, tags...); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startAuthRegistry starts Debian's docker-registry (distribution 2.8) on a
// loopback port, with htpasswd (bcrypt) basic auth for alice:s3cret,
// stopped when the test ends.
func startAuthRegistry(t *testing.T) *testregistry.Registry {
	t.Helper()
	return testregistry.Start(t, testregistry.Options{Server: testregistry.Distribution, User: "alice", Password: "s3cret"})
}

// login logs the docker CLI (private config dir of the daemon's env) in to
// the registry at host.
func (d *daemonProc) login(t *testing.T, host, user, password string) {
	t.Helper()
	cmd := exec.Command(dockerCLI, "login", "-u", user, "--password-stdin", host)
	cmd.Env = d.cliEnv()
	cmd.Stdin = strings.NewReader(password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
}

// ingestEmpty reports whether no blob write is in flight or abandoned in
// the daemon's content store.
func (d *daemonProc) ingestEmpty() bool {
	ents, err := os.ReadDir(filepath.Join(d.DataRoot, "content", "ingest"))
	return err == nil && len(ents) == 0
}

func testimageSynthetic(seed string) (*testimage.Image, error) { return testimage.Synthetic(seed, 2) }
