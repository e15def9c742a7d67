package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
)

// smallImage is a complete one-layer image, built before the clock starts.
type smallImage struct {
	tag                 string
	layer, config       []byte
	layerDigest, cfgDig string
	manDigest           string
	manifestBody        []byte
}

const (
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar"
)

// newSmallImages builds n images with a 1 KiB random layer each; stream
// keeps the sets of different workloads apart so no blob is pushed twice.
func newSmallImages(n int, stream uint64) ([]smallImage, error) {
	imgs := make([]smallImage, n)
	for i := range imgs {
		im := &imgs[i]
		im.tag = fmt.Sprintf("img-%d", i)
		im.layer = randomBytes(1024, stream<<32|uint64(i))
		im.layerDigest = sha256Digest(im.layer)
		cfg, err := json.Marshal(map[string]any{
			"architecture": "amd64",
			"os":           "linux",
			"config":       map[string]any{"Cmd": []string{"/bin/true"}},
			"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{im.layerDigest}},
		})
		if err != nil {
			return nil, err
		}
		im.config, im.cfgDig = cfg, sha256Digest(cfg)
		man, err := json.Marshal(map[string]any{
			"schemaVersion": 2,
			"mediaType":     mediaManifest,
			"config":        map[string]any{"mediaType": mediaConfig, "digest": im.cfgDig, "size": len(cfg)},
			"layers":        []any{map[string]any{"mediaType": mediaLayer, "digest": im.layerDigest, "size": len(im.layer)}},
		})
		if err != nil {
			return nil, err
		}
		im.manifestBody, im.manDigest = man, sha256Digest(man)
	}
	return imgs, nil
}

// pushImage pushes one image as a client does: for the layer and the
// config a HEAD (absent), POST and PUT ?digest=; then the manifest by tag.
// Seven requests.
func (r *registry) pushImage(ctx context.Context, repo string, im *smallImage) error {
	if err := r.pushBlob(ctx, repo, im.layerDigest, im.layer); err != nil {
		return err
	}
	if err := r.pushBlob(ctx, repo, im.cfgDig, im.config); err != nil {
		return err
	}
	return r.putManifest(ctx, repo, im.tag, mediaManifest, im.manDigest, im.manifestBody)
}

// pushImages pushes all images with conc workers and returns the first error.
func (r *registry) pushImages(ctx context.Context, repo string, imgs []smallImage, conc int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(imgs) || ctx.Err() != nil {
					return
				}
				if err := r.pushImage(ctx, repo, &imgs[i]); err != nil {
					errOnce.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
