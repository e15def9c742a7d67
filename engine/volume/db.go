package volume

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The metadata database has one bucket:
//
//	volumes/<name> -> record as JSON
var bucketVolumes = []byte("volumes")

type db struct{ b *bolt.DB }

func openDB(path string) (*db, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("volume: open metadata %s: %w", path, err)
	}
	if err := b.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketVolumes)
		return err
	}); err != nil {
		b.Close()
		return nil, err
	}
	return &db{b}, nil
}

func (d *db) close() error { return d.b.Close() }

func (d *db) put(r *record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return d.b.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketVolumes).Put([]byte(r.Name), v) })
}

func (d *db) delete(name string) error {
	return d.b.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketVolumes).Delete([]byte(name)) })
}

func (d *db) all() ([]*record, error) {
	var out []*record
	err := d.b.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketVolumes).ForEach(func(k, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("volume %s: %w", k, err)
			}
			out = append(out, &r)
			return nil
		})
	})
	return out, err
}
