package volume

import (
	"context"
	"io/fs"
	"syscall"

	"github.com/moby/sys/mountinfo"
)

func inode(fi fs.FileInfo) (uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Nlink < 2 {
		return 0, false
	}
	return st.Ino, true
}

// Acquire records that container ref uses the volume, so it is not removed
// or pruned; NotFound when there is no such volume.
func (s *Service) Acquire(name, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.vols[name]; !ok {
		return errNotFound("get", name)
	}
	if s.refs[name] == nil {
		s.refs[name] = map[string]struct{}{}
	}
	s.refs[name][ref] = struct{}{}
	return nil
}

// Release drops container ref's reference to the volume.
func (s *Service) Release(name, ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refs[name], ref)
	if len(s.refs[name]) == 0 {
		delete(s.refs, name)
	}
}

// Refs lists the containers referencing the volume.
func (s *Service) Refs(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refList(name)
}

// Anonymous reports whether the volume exists and was made without a name
// (such volumes go with their container on `docker rm -v`).
func (s *Service) Anonymous(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.vols[name]
	return ok && r.anonymous()
}

// Mount returns the path of the volume's files for container ref to mount,
// mounting the volume's device there first when it is a mount of its own
// and nobody has it mounted yet.
func (s *Service) Mount(_ context.Context, name, ref string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.vols[name]
	if !ok {
		return "", errNotFound("mount", name)
	}
	path := s.dataPath(name)
	if needsMount(r.Options) && s.mounts[name] == 0 {
		// Mounted already: by a daemon before this one, for a container
		// that outlived it and is being adopted.
		if mounted, _ := mountinfo.Mounted(path); !mounted {
			if err := mountDevice(r.Options, path); err != nil {
				return "", &opError{op: "mount", name: name, err: err}
			}
		}
	}
	s.mounts[name]++
	return path, nil
}

// Unmount ends one Mount; the last one unmounts the volume's device.
func (s *Service) Unmount(_ context.Context, name, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.vols[name]
	if !ok || s.mounts[name] == 0 {
		return nil
	}
	s.mounts[name]--
	if s.mounts[name] > 0 {
		return nil
	}
	delete(s.mounts, name)
	if needsMount(r.Options) {
		if err := unmountDevice(s.dataPath(name)); err != nil {
			return &opError{op: "unmount", name: name, err: err}
		}
	}
	return nil
}
