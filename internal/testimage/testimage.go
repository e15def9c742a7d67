// Package testimage builds small, deterministic container images at test time
// and writes them in the forms tests feed to an engine or a registry:
//
//	img, err := testimage.Busybox()          // /bin/busybox + applet links, Cmd ["sh"]
//	img.WriteDockerSave(w, "busybox:latest") // a tar `docker load` reads
//	img.WriteOCILayout(w, "latest")          // an OCI image layout as a tar
//	img.Push(ctx, http.DefaultClient, "http://127.0.0.1:5000", "busybox", "latest", "", "")
//
// Synthetic(seed, n) makes tiny images of n layers with distinct content
// (for tests that need many images or no busybox). The same inputs always
// give the same bytes and digests: fixed times, fixed owners, gzip without
// names or timestamps.
package testimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker's media types (schema 2); the manifests made here use them, as
// docker push does.
const (
	MediaTypeManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeConfig   = "application/vnd.docker.container.image.v1+json"
	MediaTypeLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// BusyboxPath is where Debian's busybox-static installs the binary.
const BusyboxPath = "/bin/busybox"

// Epoch is the time stamped on every file and history entry.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// File is one entry of a layer. Exactly one of Body (a regular file), Link
// (a symlink target) or Dir applies; Whiteout names a deleted path instead.
type File struct {
	Name string
	Body []byte
	Mode int64 // 0 means 0644 for files, 0755 for dirs
	Link string
	Dir  bool
}

// Layer is one gzip-compressed layer.
type Layer struct {
	Blob   []byte        // the compressed tar as pushed
	Digest digest.Digest // of Blob
	DiffID digest.Digest // of the uncompressed tar
}

// Image is a complete image: config, layers and manifest, all as bytes.
type Image struct {
	Config         []byte
	ConfigDigest   digest.Digest
	Layers         []Layer
	Manifest       []byte
	ManifestDigest digest.Digest
}

// ID is the image ID an engine gives the image (its config digest).
func (im *Image) ID() string { return im.ConfigDigest.String() }

// New builds an image from layers of files with cmd as its Cmd. Each layer
// gets a history entry "layer N".
func New(cmd []string, layers ...[]File) (*Image, error) {
	im := &Image{}
	var diffIDs []digest.Digest
	var history []ocispec.History
	for i, files := range layers {
		l, err := makeLayer(files)
		if err != nil {
			return nil, err
		}
		im.Layers = append(im.Layers, l)
		diffIDs = append(diffIDs, l.DiffID)
		history = append(history, ocispec.History{Created: &Epoch, CreatedBy: fmt.Sprintf("layer %d", i)})
	}
	cfg := ocispec.Image{
		Created:  &Epoch,
		Platform: ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"},
		Config: ocispec.ImageConfig{
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd: cmd,
		},
		RootFS:  ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
		History: history,
	}
	var err error
	if im.Config, err = json.Marshal(cfg); err != nil {
		return nil, err
	}
	im.ConfigDigest = digest.FromBytes(im.Config)
	m := struct {
		SchemaVersion int                  `json:"schemaVersion"`
		MediaType     string               `json:"mediaType"`
		Config        ocispec.Descriptor   `json:"config"`
		Layers        []ocispec.Descriptor `json:"layers"`
	}{2, MediaTypeManifest, ocispec.Descriptor{MediaType: MediaTypeConfig, Digest: im.ConfigDigest, Size: int64(len(im.Config))}, nil}
	for _, l := range im.Layers {
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: MediaTypeLayer, Digest: l.Digest, Size: int64(len(l.Blob))})
	}
	if im.Manifest, err = json.MarshalIndent(m, "", "   "); err != nil {
		return nil, err
	}
	im.ManifestDigest = digest.FromBytes(im.Manifest)
	return im, nil
}

func makeLayer(files []File) (Layer, error) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, f := range files {
		h := &tar.Header{Name: f.Name, ModTime: Epoch, Mode: f.Mode, Format: tar.FormatPAX}
		switch {
		case f.Dir:
			h.Typeflag = tar.TypeDir
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		case f.Link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, f.Link, 0o777
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Body))
			if h.Mode == 0 {
				h.Mode = 0o644
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return Layer{}, err
		}
		if _, err := tw.Write(f.Body); err != nil {
			return Layer{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Layer{}, err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	zw.Write(raw.Bytes())
	if err := zw.Close(); err != nil {
		return Layer{}, err
	}
	return Layer{Blob: gz.Bytes(), Digest: digest.FromBytes(gz.Bytes()), DiffID: digest.FromBytes(raw.Bytes())}, nil
}

// BusyboxApplets are linked to /bin/busybox in the Busybox image.
var BusyboxApplets = []string{"sh", "ls", "cat", "echo", "true", "false", "sleep", "env", "id", "hostname", "mkdir", "rm", "touch", "wc", "head", "grep", "ps", "mount", "uname", "test", "printf", "yes", "date", "pwd", "kill", "wget", "nc", "ip", "ping"}

// Busybox builds a one-layer image of Debian's static busybox (BusyboxPath)
// with applet symlinks in /bin and Cmd ["sh"].
func Busybox() (*Image, error) {
	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("testimage: %w (install busybox-static)", err)
	}
	files := []File{{Name: "bin/", Dir: true}, {Name: "bin/busybox", Body: bin, Mode: 0o755}}
	applets := append([]string(nil), BusyboxApplets...)
	sort.Strings(applets)
	for _, a := range applets {
		files = append(files, File{Name: "bin/" + a, Link: "busybox"})
	}
	files = append(files, File{Name: "etc/", Dir: true}, File{Name: "etc/passwd", Body: []byte("root:x:0:0:root:/root:/bin/sh\n")},
		File{Name: "etc/group", Body: []byte("root:x:0:\n")}, File{Name: "tmp/", Dir: true, Mode: 0o1777})
	return New([]string{"sh"}, files)
}

// Synthetic builds an image of n tiny layers whose content depends on seed,
// so different seeds give different images and layers.
func Synthetic(seed string, n int) (*Image, error) {
	layers := make([][]File, n)
	for i := range layers {
		layers[i] = []File{{Name: fmt.Sprintf("layer%d/", i), Dir: true},
			{Name: fmt.Sprintf("layer%d/%s", i, seed), Body: []byte(fmt.Sprintf("%s layer %d\n", seed, i))}}
	}
	return New([]string{"/bin/sh"}, layers...)
}
