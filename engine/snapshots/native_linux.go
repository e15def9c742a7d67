package snapshots

// NewNative opens the native snapshotter at root: every snapshot is a full
// copy of its parent in a plain directory, mounted with a bind mount. Slower
// and larger than overlay, but it works on any filesystem.
func NewNative(root string) (Snapshotter, error) {
	return openLocal(root, native{})
}

type native struct{}

func (native) populate(fsDir string, parents []string) error {
	if len(parents) == 0 {
		return nil
	}
	return copyTree(parents[0], fsDir)
}

func (native) mounts(s *local, r record, _ []string) []Mount {
	opt := "rw"
	if r.Kind == KindView {
		opt = "ro"
	}
	return []Mount{{Type: "bind", Source: s.fsDir(r.ID), Options: []string{opt, "rbind"}}}
}
