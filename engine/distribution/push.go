package distribution

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/reference"
)

// PushImage is what is pushed: a manifest and the blobs it names, all in
// the store.
type PushImage struct {
	Manifest      ocispec.Descriptor
	ManifestBytes []byte
	Config        ocispec.Descriptor
	Layers        []ocispec.Descriptor
}

// PushOptions tune Push.
type PushOptions struct {
	Auth     AuthConfig
	Progress *Progress
	Store    Store
	// Sources lists, per blob, repositories (full names, "host/path") known
	// to hold it; a blob the target lacks is mounted from one of them on the
	// same registry instead of uploaded.
	Sources map[digest.Digest][]string
}

// PushResult is the aux record dockerd sends at the end of a push.
type PushResult struct {
	Tag    string
	Digest string
	Size   int
}

// Push uploads img to named (a tagged reference): blobs the registry lacks
// (found with HEAD), mounted across repositories when possible, then the
// manifest under the tag.
func (c *Client) Push(ctx context.Context, named reference.NamedTagged, img PushImage, opts PushOptions) (*PushResult, error) {
	p := opts.Progress
	host := reference.Domain(named)
	mountFrom := map[digest.Digest]string{}
	var extra []string
	for d, repos := range opts.Sources {
		for _, r := range repos {
			src, err := reference.ParseNormalizedNamed(r)
			if err == nil && reference.Domain(src) == host && reference.Path(src) != reference.Path(named) {
				mountFrom[d] = reference.Path(src)
				extra = append(extra, "repository:"+reference.Path(src)+":pull")
				break
			}
		}
	}
	s, err := c.newSession(ctx, named, opts.Auth, "pull,push", c.endpoints(host, false), extra...)
	if err != nil {
		return nil, err
	}
	p.Status("", "The push refers to repository [%s]", named.Name())
	for i := len(img.Layers) - 1; i >= 0; i-- {
		p.Status(ShortID(img.Layers[i].Digest), "Preparing")
	}
	for i := len(img.Layers) - 1; i >= 0; i-- {
		if err := s.pushBlob(ctx, img.Layers[i], ShortID(img.Layers[i].Digest), mountFrom[img.Layers[i].Digest], opts); err != nil {
			return nil, err
		}
	}
	if err := s.pushBlob(ctx, img.Config, "", mountFrom[img.Config.Digest], opts); err != nil {
		return nil, err
	}
	resp, err := s.do(ctx, request{
		method: http.MethodPut,
		url:    "/v2/" + s.repo + "/manifests/" + url.PathEscape(named.Tag()),
		header: http.Header{"Content-Type": {img.Manifest.MediaType}},
		body:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(img.ManifestBytes)), nil },
		size:   int64(len(img.ManifestBytes)),
	})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return nil, registryError(resp, "put manifest")
	}
	res := &PushResult{Tag: named.Tag(), Digest: img.Manifest.Digest.String(), Size: len(img.ManifestBytes)}
	p.Status("", "%s: digest: %s size: %d", res.Tag, res.Digest, res.Size)
	p.Aux(res)
	return res, nil
}

func (s *session) pushBlob(ctx context.Context, d ocispec.Descriptor, id, mountFrom string, opts PushOptions) error {
	p := opts.Progress
	resp, err := s.do(ctx, request{method: http.MethodHead, url: "/v2/" + s.repo + "/blobs/" + d.Digest.String()})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if id != "" {
			p.Status(id, "Layer already exists")
		}
		return nil
	}
	start := "/v2/" + s.repo + "/blobs/uploads/"
	if mountFrom != "" {
		start += "?" + url.Values{"mount": {d.Digest.String()}, "from": {mountFrom}}.Encode()
	}
	resp, err = s.do(ctx, request{method: http.MethodPost, url: start})
	if err != nil {
		return err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusCreated: // mounted
		if id != "" {
			p.Status(id, "Mounted from %s", mountFrom)
		}
		return nil
	case http.StatusAccepted:
	default:
		return registryError(resp, "start upload of "+d.Digest.String())
	}
	loc, err := resp.Location()
	if err != nil {
		return errdefs.Unavailable(fmt.Errorf("upload of %s: registry sent no Location", d.Digest))
	}
	q := loc.Query()
	q.Set("digest", d.Digest.String())
	loc.RawQuery = q.Encode()
	resp, err = s.do(ctx, request{
		method: http.MethodPut,
		url:    loc.String(),
		header: http.Header{"Content-Type": {"application/octet-stream"}},
		size:   d.Size,
		body: func() (io.ReadCloser, error) {
			f, err := opts.Store.Open(ctx, d.Digest)
			if err != nil {
				return nil, errdefs.System(err)
			}
			return &countingReader{f: f, id: id, total: d.Size, p: p}, nil
		},
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return registryError(resp, "upload of "+d.Digest.String())
	}
	if id != "" {
		p.Status(id, "Pushed")
	}
	return nil
}

// countingReader reports upload progress as a "Pushing" bar.
type countingReader struct {
	f     io.ReadCloser
	id    string
	total int64
	n     int64
	last  int64
	p     *Progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.f.Read(b)
	c.n += int64(n)
	if c.id != "" && (c.n-c.last >= 512<<10 || (err == io.EOF && c.n != c.last)) {
		c.last = c.n
		c.p.Bar(c.id, "Pushing", c.n, c.total)
	}
	return n, err
}

func (c *countingReader) Close() error { return c.f.Close() }
