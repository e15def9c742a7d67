package snapshots

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// record is a snapshot's metadata: its Info plus the directory id.
type record struct {
	Info
	ID string `json:"id"`
}

// meta keeps all records in one JSON file, rewritten atomically (temp file +
// rename) on each change, so a crash leaves either the old or the new state.
type meta struct {
	path string
	mu   sync.Mutex
	recs map[string]*record
}

func openMeta(path string) (*meta, error) {
	m := &meta{path: path, recs: map[string]*record{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m.recs); err != nil {
		return nil, fmt.Errorf("snapshots: corrupt metadata %s: %w", path, err)
	}
	return m, nil
}

func (m *meta) save() error {
	b, err := json.Marshal(m.recs)
	if err != nil {
		return err
	}
	tmp := m.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, m.path)
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// chain returns the directory ids of key's parents, nearest first. Call with
// mu held.
func (m *meta) chain(parent string) ([]string, error) {
	var ids []string
	for parent != "" {
		p, ok := m.recs[parent]
		if !ok {
			return nil, fmt.Errorf("parent %s: %w", parent, ErrNotFound)
		}
		ids = append(ids, p.ID)
		parent = p.Parent
	}
	return ids, nil
}

// create adds a record after mk has made its directory; mk gets the new id
// and the parent chain. On failure mk's directory is the caller's to remove.
func (m *meta) create(key, parent string, kind Kind, mk func(id string, parents []string) error) (*record, []string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if key == "" {
		return nil, nil, fmt.Errorf("empty key: %w", ErrInvalid)
	}
	if _, ok := m.recs[key]; ok {
		return nil, nil, fmt.Errorf("%s: %w", key, ErrAlreadyExists)
	}
	if parent != "" {
		p, ok := m.recs[parent]
		if !ok {
			return nil, nil, fmt.Errorf("parent %s: %w", parent, ErrNotFound)
		}
		if p.Kind != KindCommitted {
			return nil, nil, fmt.Errorf("parent %s is not committed: %w", parent, ErrInvalid)
		}
	}
	parents, err := m.chain(parent)
	if err != nil {
		return nil, nil, err
	}
	r := &record{Info: Info{Kind: kind, Name: key, Parent: parent, Created: time.Now().UTC()}, ID: newID()}
	if err := mk(r.ID, parents); err != nil {
		return nil, nil, err
	}
	m.recs[key] = r
	if err := m.save(); err != nil {
		delete(m.recs, key)
		return nil, nil, err
	}
	return r, parents, nil
}

func (m *meta) get(key string) (record, []string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[key]
	if !ok {
		return record{}, nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	parents, err := m.chain(r.Parent)
	return *r, parents, err
}

// commit turns active key into committed name. With rebase set, the
// snapshot (which must have no parent) gets parent as its parent.
func (m *meta) commit(name, key string, rebase bool, parent string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[key]
	if !ok {
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if r.Kind != KindActive {
		return fmt.Errorf("%s is a %s snapshot, only active ones commit: %w", key, r.Kind, ErrInvalid)
	}
	if _, ok := m.recs[name]; ok {
		return fmt.Errorf("%s: %w", name, ErrAlreadyExists)
	}
	nr := *r
	if rebase {
		if r.Parent != "" {
			return fmt.Errorf("%s already has parent %s: %w", key, r.Parent, ErrInvalid)
		}
		if parent != "" {
			p, ok := m.recs[parent]
			if !ok {
				return fmt.Errorf("parent %s: %w", parent, ErrNotFound)
			}
			if p.Kind != KindCommitted {
				return fmt.Errorf("parent %s is not committed: %w", parent, ErrInvalid)
			}
		}
		nr.Parent = parent
	}
	nr.Name, nr.Kind, nr.Created = name, KindCommitted, time.Now().UTC()
	delete(m.recs, key)
	m.recs[name] = &nr
	if err := m.save(); err != nil {
		delete(m.recs, name)
		m.recs[key] = r
		return err
	}
	return nil
}

func (m *meta) remove(key string) (record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[key]
	if !ok {
		return record{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	for _, o := range m.recs {
		if o.Parent == key {
			return record{}, fmt.Errorf("%s has child %s: %w", key, o.Name, ErrInvalid)
		}
	}
	delete(m.recs, key)
	if err := m.save(); err != nil {
		m.recs[key] = r
		return record{}, err
	}
	return *r, nil
}

func (m *meta) infos() []Info {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Info, 0, len(m.recs))
	for _, r := range m.recs {
		out = append(out, r.Info)
	}
	return out
}

func (m *meta) ids() map[string]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := map[string]bool{}
	for _, r := range m.recs {
		ids[r.ID] = true
	}
	return ids
}

// dirOf is where snapshot id's files live.
func dirOf(root, id string) string { return filepath.Join(root, "snapshots", id) }
