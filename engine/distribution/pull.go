package distribution

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/content"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/reference"
)

// Media types of manifests and indexes a pull accepts.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeSchema1            = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

var acceptManifests = []string{ocispec.MediaTypeImageIndex, MediaTypeDockerManifestList, ocispec.MediaTypeImageManifest, MediaTypeDockerManifest}

// maxManifestSize bounds manifests and indexes read into memory.
const maxManifestSize = 4 << 20

// Store is what pull and push need of the content store.
type Store interface {
	Has(ctx context.Context, dgst digest.Digest) bool
	Writer(ctx context.Context, expected digest.Digest, size int64) (*content.Writer, error)
	WriteBlob(ctx context.Context, r io.Reader, expected digest.Digest, size int64) (content.Info, error)
	Open(ctx context.Context, dgst digest.Digest) (*os.File, error)
}

var _ Store = (*content.Store)(nil)

// PullOptions tune Pull.
type PullOptions struct {
	Platform    ocispec.Platform // zero: linux and this machine's architecture
	Auth        AuthConfig
	Progress    *Progress
	Store       Store
	Concurrency int // parallel layer downloads, default 3
	// OnConfig, when set, is called once the image config is in Store,
	// before any layer is fetched.
	OnConfig func(ctx context.Context, config digest.Digest) error
	// Unpack, when set, is called for layer i as soon as it and every layer
	// before it are in Store, while later layers still download. It reports
	// "Pull complete" itself when the layer is unpacked (it may finish the
	// work after returning).
	Unpack func(ctx context.Context, i int, layer ocispec.Descriptor) error
}

// PullResult is what a pull put in the store.
type PullResult struct {
	Digest   digest.Digest      // what the reference resolved to (index or manifest): the repo digest
	Manifest ocispec.Descriptor // the platform's image manifest
	Config   digest.Digest
	Layers   []ocispec.Descriptor
}

// manifest is the common shape of OCI and Docker schema 2 manifests/indexes.
type manifest struct {
	SchemaVersion int                  `json:"schemaVersion"`
	MediaType     string               `json:"mediaType"`
	Config        ocispec.Descriptor   `json:"config"`
	Layers        []ocispec.Descriptor `json:"layers"`
	Manifests     []ocispec.Descriptor `json:"manifests"`
}

// ShortID is the 12 characters of a digest the progress lines show.
func ShortID(d digest.Digest) string {
	e := d.Encoded()
	if len(e) > 12 {
		return e[:12]
	}
	return e
}

// Pull fetches named (tagged or canonical) into opts.Store: manifest (the
// platform's one when the reference is an index), config and layers, each
// verified against its digest while streaming.
func (c *Client) Pull(ctx context.Context, named reference.Named, opts PullOptions) (*PullResult, error) {
	if opts.Platform.OS == "" {
		opts.Platform = ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	}
	host := reference.Domain(named)
	eps := c.endpoints(host, true)
	tries := [][]string{eps}
	if host == "docker.io" { // each mirror, then docker.io itself
		tries = nil
		for _, e := range eps {
			tries = append(tries, []string{e})
		}
	}
	var lastErr error
	for _, bases := range tries {
		s, err := c.newSession(ctx, named, opts.Auth, "pull", bases)
		if err != nil {
			lastErr = err
			continue
		}
		res, err := s.pull(ctx, named, opts)
		if err == nil || ctx.Err() != nil || !errdefs.IsUnavailable(err) {
			return res, err
		}
		lastErr = err
	}
	return nil, lastErr
}

func (s *session) fetchManifest(ctx context.Context, ref string) ([]byte, string, error) {
	h := http.Header{}
	for _, a := range acceptManifests {
		h.Add("Accept", a)
	}
	resp, err := s.do(ctx, request{method: http.MethodGet, url: "/v2/" + s.repo + "/manifests/" + ref, header: h})
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", registryError(resp, fmt.Sprintf("manifest for %s/%s:%s", s.host, s.repo, ref))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
	if err != nil {
		return nil, "", errdefs.Unavailable(err)
	}
	if len(b) > maxManifestSize {
		return nil, "", errdefs.InvalidParameter(fmt.Errorf("manifest %s larger than %d bytes", ref, maxManifestSize))
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, "", errdefs.InvalidParameter(fmt.Errorf("manifest %s: %w", ref, err))
	}
	mt := m.MediaType
	if mt == "" {
		mt = resp.Header.Get("Content-Type")
	}
	if mt == "" && m.Config.Digest != "" {
		mt = ocispec.MediaTypeImageManifest
	} else if mt == "" && len(m.Manifests) > 0 {
		mt = ocispec.MediaTypeImageIndex
	}
	if m.SchemaVersion == 1 || mt == mediaTypeSchema1 {
		return nil, "", errdefs.InvalidParameter(fmt.Errorf("%s: schema 1 manifests are not supported", ref))
	}
	return b, mt, nil
}

func isIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == MediaTypeDockerManifestList
}

func platformMatches(want ocispec.Platform, p *ocispec.Platform) bool {
	if p == nil {
		return false
	}
	if p.OS != want.OS || p.Architecture != want.Architecture {
		return false
	}
	return want.Variant == "" || p.Variant == want.Variant
}

func (s *session) pull(ctx context.Context, named reference.Named, opts PullOptions) (*PullResult, error) {
	ref := ""
	if c, ok := named.(reference.Canonical); ok {
		ref = c.Digest().String()
	} else if t, ok := named.(reference.Tagged); ok {
		ref = t.Tag()
	} else {
		ref = "latest"
	}
	p := opts.Progress
	b, mt, err := s.fetchManifest(ctx, ref)
	if err != nil {
		return nil, err
	}
	top := digest.FromBytes(b)
	if c, ok := named.(reference.Canonical); ok && c.Digest() != top {
		return nil, errdefs.InvalidParameter(fmt.Errorf("manifest digest %s does not match %s", top, c.Digest()))
	}
	if t, ok := named.(reference.Tagged); ok {
		p.Status("", "%s: Pulling from %s", t.Tag(), reference.Path(named))
	} else {
		p.Status("", "%s: Pulling from %s", top, reference.Path(named))
	}
	if isIndex(mt) {
		var idx manifest
		json.Unmarshal(b, &idx)
		var pick *ocispec.Descriptor
		for i := range idx.Manifests {
			if platformMatches(opts.Platform, idx.Manifests[i].Platform) {
				pick = &idx.Manifests[i]
				break
			}
		}
		if pick == nil {
			return nil, errdefs.NotFound(fmt.Errorf("no matching manifest for %s/%s in the manifest list entries", opts.Platform.OS, opts.Platform.Architecture))
		}
		if b, mt, err = s.fetchManifest(ctx, pick.Digest.String()); err != nil {
			return nil, err
		}
		if digest.FromBytes(b) != pick.Digest {
			return nil, errdefs.InvalidParameter(fmt.Errorf("manifest %s: digest mismatch", pick.Digest))
		}
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil || m.Config.Digest == "" {
		return nil, errdefs.InvalidParameter(fmt.Errorf("manifest %s: not an image manifest", ref))
	}
	res := &PullResult{Digest: top, Manifest: ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(b), Size: int64(len(b))}, Config: m.Config.Digest, Layers: m.Layers}
	if !opts.Store.Has(ctx, m.Config.Digest) {
		if err := s.fetchBlob(ctx, m.Config, "", nil, opts.Store); err != nil {
			return nil, err
		}
	}
	if opts.OnConfig != nil {
		if err := opts.OnConfig(ctx, m.Config.Digest); err != nil {
			return nil, err
		}
	}
	if err := s.fetchLayers(ctx, m.Layers, opts); err != nil {
		return nil, err
	}
	if _, err := opts.Store.WriteBlob(ctx, bytes.NewReader(b), res.Manifest.Digest, res.Manifest.Size); err != nil {
		return nil, errdefs.System(err)
	}
	return res, nil
}

// fetchLayers downloads layers in parallel and hands them to opts.Unpack in
// order as soon as each one and all before it are stored.
func (s *session) fetchLayers(ctx context.Context, layers []ocispec.Descriptor, opts PullOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conc := opts.Concurrency
	if conc <= 0 {
		conc = 3
	}
	p := opts.Progress
	sem := make(chan struct{}, conc)
	done := make([]chan error, len(layers))
	var wg sync.WaitGroup
	defer wg.Wait() // no download outlives the pull
	for i, l := range layers {
		done[i] = make(chan error, 1)
		id := ShortID(l.Digest)
		if opts.Store.Has(ctx, l.Digest) {
			p.Status(id, "Already exists")
			done[i] <- nil
			continue
		}
		p.Status(id, "Pulling fs layer")
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				done[i] <- ctx.Err()
				return
			}
			defer func() { <-sem }()
			done[i] <- s.fetchBlob(ctx, l, id, p, opts.Store)
		}()
	}
	for i, l := range layers {
		if err := <-done[i]; err != nil {
			cancel()
			return err
		}
		if opts.Unpack != nil {
			p.Status(ShortID(l.Digest), "Extracting")
			if err := opts.Unpack(ctx, i, l); err != nil {
				cancel()
				return err
			}
		}
	}
	return nil
}

// fetchBlob streams one blob into the store, verifying digest and size as it
// writes; a failure leaves nothing in the store.
func (s *session) fetchBlob(ctx context.Context, d ocispec.Descriptor, id string, p *Progress, st Store) error {
	resp, err := s.do(ctx, request{method: http.MethodGet, url: "/v2/" + s.repo + "/blobs/" + d.Digest.String()})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return registryError(resp, "blob "+d.Digest.String())
	}
	w, err := st.Writer(ctx, d.Digest, d.Size)
	if err != nil {
		return errdefs.System(err)
	}
	defer w.Close()
	buf := make([]byte, 256<<10)
	var last int64
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return errdefs.InvalidParameter(fmt.Errorf("blob %s: %w", d.Digest, err))
			}
			if id != "" && (w.Written()-last >= 512<<10 || w.Written() == d.Size) {
				last = w.Written()
				p.Bar(id, "Downloading", last, d.Size)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errdefs.Unavailable(fmt.Errorf("blob %s: %w", d.Digest, rerr))
		}
	}
	if id != "" {
		p.Status(id, "Verifying Checksum")
	}
	if _, err := w.Commit(); err != nil {
		if errors.Is(err, content.ErrDigestMismatch) {
			return errdefs.InvalidParameter(fmt.Errorf("blob %s: %w", d.Digest, err))
		}
		return errdefs.System(err)
	}
	if id != "" {
		p.Status(id, "Download complete")
	}
	return nil
}
