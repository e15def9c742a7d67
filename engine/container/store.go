package container

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/ident"
)

// Store indexes the containers by ID and name. Records live on disk in
// <root>/<id>; the store keeps every one in memory.
type Store struct {
	root string // <data-root>/containers

	mu    sync.RWMutex
	byID  map[string]*Container
	names map[string]string // "/name" -> id
}

// openStore loads every record under root. A directory whose record cannot
// be read is skipped and reported in bad.
func openStore(root string) (s *Store, bad []error, err error) {
	if err := os.MkdirAll(root, 0o710); err != nil {
		return nil, nil, err
	}
	s = &Store{root: root, byID: map[string]*Container{}, names: map[string]string{}}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		if !e.IsDir() || !ident.IsFullID(e.Name()) {
			continue
		}
		c, err := load(filepath.Join(root, e.Name()))
		if err != nil {
			bad = append(bad, err)
			continue
		}
		s.byID[c.ID] = c
		if c.Name != "" {
			if other, ok := s.names[c.Name]; ok {
				bad = append(bad, errors.New("container "+c.ID+": name "+c.Name+" already used by "+other))
				continue
			}
			s.names[c.Name] = c.ID
		}
	}
	return s, bad, nil
}

func (s *Store) reserve(name, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if other, ok := s.names[name]; ok && other != id {
		return nameConflict(name, other)
	}
	s.names[name] = id
	return nil
}

func (s *Store) releaseName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.names, name)
}

func (s *Store) add(c *Container) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[c.ID] = c
}

func (s *Store) delete(c *Container) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, c.ID)
	if s.names[c.Name] == c.ID {
		delete(s.names, c.Name)
	}
}

// Get finds a container by full ID, by name (with or without its "/"), or
// by a unique prefix of its ID, in dockerd's order and with its errors.
func (s *Store) Get(prefixOrName string) (*Container, error) {
	if prefixOrName == "" {
		return nil, errdefs.InvalidParameter(errors.New(`invalid name or ID supplied: ""`))
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c, ok := s.byID[prefixOrName]; ok {
		return c, nil
	}
	name := prefixOrName
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	if id, ok := s.names[name]; ok {
		if c, ok := s.byID[id]; ok {
			return c, nil
		}
	}
	var found *Container
	for id, c := range s.byID {
		if strings.HasPrefix(id, prefixOrName) {
			if found != nil {
				return nil, errdefs.InvalidParameter(errors.New("multiple IDs found with provided prefix: " + prefixOrName))
			}
			found = c
		}
	}
	if found == nil {
		return nil, errNoSuchContainer(prefixOrName)
	}
	return found, nil
}

// All returns every container, newest first.
func (s *Store) All() []*Container {
	s.mu.RLock()
	out := make([]*Container, 0, len(s.byID))
	for _, c := range s.byID {
		out = append(out, c)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}
