package network

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The network database (<data-root>/network/local-kv.db, as dockerd names
// it) has three buckets, each value a JSON record:
//
//	networks/<network id>     -> netRecord: config, bridge, IPAM state
//	containers/<container id> -> attachments: the networks a container is
//	                             connected to, with aliases and addresses
//	sandboxes/<container id>  -> sandbox: what a running container holds
//	                             (netns, veths, addresses, ports); after a
//	                             daemon died, taken back by the next one
//	                             (Rejoin) or undone (DropStale)
var (
	bucketNetworks   = []byte("networks")
	bucketContainers = []byte("containers")
	bucketSandboxes  = []byte("sandboxes")
)

type db struct{ b *bolt.DB }

func openDB(path string) (*db, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("network: open %s: %w", path, err)
	}
	if err := b.Update(func(tx *bolt.Tx) error {
		for _, n := range [][]byte{bucketNetworks, bucketContainers, bucketSandboxes} {
			if _, err := tx.CreateBucketIfNotExists(n); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Close()
		return nil, err
	}
	return &db{b}, nil
}

func (d *db) close() error { return d.b.Close() }

func (d *db) put(bucket []byte, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return d.b.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put([]byte(key), b) })
}

func (d *db) delete(bucket []byte, key string) error {
	return d.b.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Delete([]byte(key)) })
}

// each decodes every value of bucket with newV and hands it to fn.
func each[T any](d *db, bucket []byte, fn func(key string, v *T)) error {
	return d.b.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, b []byte) error {
			v := new(T)
			if err := json.Unmarshal(b, v); err != nil {
				return fmt.Errorf("network db %s/%s: %w", bucket, k, err)
			}
			fn(string(k), v)
			return nil
		})
	})
}
