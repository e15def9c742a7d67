package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"
)

// Record is what the store keeps about one image; the manifest, config and
// layer blobs themselves are in the content store.
type Record struct {
	ID       digest.Digest        `json:"id"`       // the config digest
	Manifest ocispec.Descriptor   `json:"manifest"` // as stored in content
	Layers   []ocispec.Descriptor `json:"layers"`   // layer blobs, in config rootfs order
	Created  time.Time            `json:"created"`  // when the image entered this store
	TagTime  time.Time            `json:"tagTime,omitempty"`
	Source   string               `json:"source,omitempty"` // repository pulled from, for cross-repo mounts
}

// Buckets of the metadata database (bbolt, one file):
//
//	images/<id>  -> Record as JSON
//	refs/<ref>   -> image id, where ref is a normalised "name:tag" or "name@digest"
//	layers/<chainID> -> decimal size of the layer's unpacked files
//	sources/<digest> -> repositories ("host/path") the blob was pulled from or
//	                    pushed to, for cross-repository mounts
var (
	bucketImages  = []byte("images")
	bucketRefs    = []byte("refs")
	bucketLayers  = []byte("layers")  // chain ID -> size of the layer's files, as unpacked
	bucketSources = []byte("sources") // blob digest -> JSON list of repositories holding it
)

var errNoRecord = errors.New("no such image record")

type db struct{ b *bolt.DB }

func openDB(path string) (*db, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("image: open metadata %s: %w", path, err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, n := range [][]byte{bucketImages, bucketRefs, bucketLayers, bucketSources} {
			if _, err := tx.CreateBucketIfNotExists(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, err
	}
	return &db{b}, nil
}

func (d *db) close() error { return d.b.Close() }

func (d *db) put(rec Record) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return d.b.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketImages).Put([]byte(rec.ID), v)
	})
}

func (d *db) get(id digest.Digest) (Record, error) {
	var rec Record
	err := d.b.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketImages).Get([]byte(id))
		if v == nil {
			return errNoRecord
		}
		return json.Unmarshal(v, &rec)
	})
	return rec, err
}

func (d *db) list() ([]Record, error) {
	var out []Record
	err := d.b.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketImages).ForEach(func(_, v []byte) error {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// delete removes the image and every reference to it in one transaction.
func (d *db) delete(id digest.Digest) error {
	return d.b.Update(func(tx *bolt.Tx) error {
		refs := tx.Bucket(bucketRefs)
		var drop [][]byte
		refs.ForEach(func(k, v []byte) error {
			if string(v) == string(id) {
				drop = append(drop, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range drop {
			if err := refs.Delete(k); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketImages).Delete([]byte(id))
	})
}

// setRef points ref at id and returns what it pointed at before ("" if
// nothing).
func (d *db) setRef(ref string, id digest.Digest) (digest.Digest, error) {
	var old digest.Digest
	err := d.b.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRefs)
		old = digest.Digest(b.Get([]byte(ref)))
		return b.Put([]byte(ref), []byte(id))
	})
	return old, err
}

func (d *db) deleteRef(ref string) error {
	return d.b.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketRefs).Delete([]byte(ref)) })
}

func (d *db) ref(ref string) (digest.Digest, bool) {
	var id digest.Digest
	d.b.View(func(tx *bolt.Tx) error {
		id = digest.Digest(tx.Bucket(bucketRefs).Get([]byte(ref)))
		return nil
	})
	return id, id != ""
}

// refs returns every reference, grouped by image id.
func (d *db) refs() (map[digest.Digest][]string, error) {
	out := map[digest.Digest][]string{}
	err := d.b.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRefs).ForEach(func(k, v []byte) error {
			id := digest.Digest(v)
			out[id] = append(out[id], string(k))
			return nil
		})
	})
	return out, err
}

func (d *db) putLayerSize(chain string, size int64) error {
	return d.b.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLayers).Put([]byte(chain), []byte(strconv.FormatInt(size, 10)))
	})
}

func (d *db) layerSize(chain string) int64 {
	var n int64
	d.b.View(func(tx *bolt.Tx) error {
		n, _ = strconv.ParseInt(string(tx.Bucket(bucketLayers).Get([]byte(chain))), 10, 64)
		return nil
	})
	return n
}

func (d *db) deleteLayerSize(chain string) {
	d.b.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketLayers).Delete([]byte(chain)) })
}

// addSources records that repo holds each of blobs.
func (d *db) addSources(repo string, blobs ...digest.Digest) error {
	return d.b.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSources)
		for _, dg := range blobs {
			var repos []string
			if v := b.Get([]byte(dg)); v != nil {
				json.Unmarshal(v, &repos)
			}
			if slices.Contains(repos, repo) {
				continue
			}
			repos = append(repos, repo)
			if len(repos) > 8 { // the most recent few are enough
				repos = repos[len(repos)-8:]
			}
			v, _ := json.Marshal(repos)
			if err := b.Put([]byte(dg), v); err != nil {
				return err
			}
		}
		return nil
	})
}

func (d *db) sources(blobs ...digest.Digest) map[digest.Digest][]string {
	out := map[digest.Digest][]string{}
	d.b.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSources)
		for _, dg := range blobs {
			var repos []string
			if v := b.Get([]byte(dg)); v != nil && json.Unmarshal(v, &repos) == nil {
				out[dg] = repos
			}
		}
		return nil
	})
	return out
}
