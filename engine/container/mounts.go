package container

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// The -v mode words, as dockerd's Linux parser knows them.
var (
	rwModes          = map[string]bool{"rw": true, "ro": true}
	labelModes       = map[string]bool{"z": true, "Z": true}
	copyModes        = map[string]bool{"nocopy": true}
	consistencyModes = map[string]bool{"consistent": true, "cached": true, "delegated": true}
	propagationModes = map[mount.Propagation]bool{
		mount.PropagationPrivate: true, mount.PropagationRPrivate: true,
		mount.PropagationSlave: true, mount.PropagationRSlave: true,
		mount.PropagationShared: true, mount.PropagationRShared: true,
	}
)

type mountConfigError struct {
	typ mount.Type
	err error
}

func (e *mountConfigError) Error() string {
	return fmt.Sprintf("invalid mount config for type %q: %v", e.typ, e.err)
}

func mountErr(m *mount.Mount, format string, args ...any) error {
	return &mountConfigError{typ: m.Type, err: fmt.Errorf(format, args...)}
}

func errInvalidSpec(raw string) error { return fmt.Errorf("invalid volume specification: '%s'", raw) }

// validMode reports whether a -v mode string has only known words, at
// most one of each kind.
func validMode(mode string) bool {
	if mode == "" {
		return true
	}
	var rw, label, prop, cp, cons int
	for _, o := range strings.Split(mode, ",") {
		switch {
		case rwModes[o]:
			rw++
		case labelModes[o]:
			label++
		case propagationModes[mount.Propagation(o)]:
			prop++
		case copyModes[o]:
			cp++
		case consistencyModes[o]:
			cons++
		default:
			return false
		}
	}
	return rw <= 1 && label <= 1 && prop <= 1 && cp <= 1 && cons <= 1
}

// parseBind parses a -v "src:dst[:mode]" or "dst" into a mount spec.
func parseBind(raw string) (*MountPoint, error) {
	arr := strings.SplitN(raw, ":", 4)
	if arr[0] == "" {
		return nil, errInvalidSpec(raw)
	}
	var m mount.Mount
	var mode string
	switch len(arr) {
	case 1:
		m.Target = arr[0]
	case 2:
		if validMode(arr[1]) {
			return nil, errInvalidSpec(raw) // "/foo:rw": a mode without a source
		}
		m.Source, m.Target = arr[0], arr[1]
	case 3:
		m.Source, m.Target, mode = arr[0], arr[1], arr[2]
	default:
		return nil, errInvalidSpec(raw)
	}
	if !validMode(mode) {
		return nil, fmt.Errorf("invalid mode: %s", mode)
	}
	m.Type = mount.TypeVolume
	if path.IsAbs(m.Source) {
		m.Type = mount.TypeBind
	}
	words := strings.Split(mode, ",")
	for _, w := range words {
		switch {
		case w == "ro":
			m.ReadOnly = true
		case w == "nocopy":
			m.VolumeOptions = &mount.VolumeOptions{NoCopy: true}
		case propagationModes[mount.Propagation(w)]:
			m.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(w)}
		}
	}
	if m.Type == mount.TypeVolume && m.BindOptions != nil {
		m.BindOptions = nil // propagation applies to binds only
	}
	mp, err := parseMount(m, false)
	if err != nil {
		return nil, fmt.Errorf("%v: %v", errInvalidSpec(raw), err)
	}
	mp.Mode, mp.Spec = mode, nil
	return mp, nil
}

// parseMount validates a --mount (and the spec -v became) with dockerd's
// messages. checkSource requires a bind's source to exist, as --mount does
// (-v creates a missing source directory instead).
func parseMount(m mount.Mount, checkSource bool) (*MountPoint, error) {
	if m.Target == "" {
		return nil, mountErr(&m, "field Target must not be empty")
	}
	if path.Clean(m.Target) == "/" {
		return nil, mountErr(&m, "invalid specification: destination can't be '/'")
	}
	if !path.IsAbs(m.Target) {
		return nil, mountErr(&m, "invalid mount path: '%s' mount path must be absolute", m.Target)
	}
	mp := &MountPoint{Type: m.Type, Destination: path.Clean(m.Target), RW: !m.ReadOnly}
	spec := m
	mp.Spec = &spec
	switch m.Type {
	case mount.TypeBind:
		if m.Source == "" {
			return nil, mountErr(&m, "field Source must not be empty")
		}
		if m.VolumeOptions != nil {
			return nil, mountErr(&m, "field VolumeOptions must not be specified")
		}
		if m.TmpfsOptions != nil {
			return nil, mountErr(&m, "field TmpfsOptions must not be specified")
		}
		if !path.IsAbs(m.Source) {
			return nil, mountErr(&m, "invalid mount path: '%s' mount path must be absolute", m.Source)
		}
		mp.Propagation = mount.PropagationRPrivate
		if o := m.BindOptions; o != nil && o.Propagation != "" {
			if !propagationModes[o.Propagation] {
				return nil, mountErr(&m, "invalid propagation mode: %s", o.Propagation)
			}
			mp.Propagation = o.Propagation
		}
		if checkSource && (m.BindOptions == nil || !m.BindOptions.CreateMountpoint) {
			if _, err := os.Stat(m.Source); errors.Is(err, os.ErrNotExist) {
				return nil, mountErr(&m, "bind source path does not exist: %s", m.Source)
			} else if err != nil {
				return nil, mountErr(&m, "%v", err)
			}
		}
		mp.Source = path.Clean(m.Source)
	case mount.TypeVolume:
		if m.BindOptions != nil {
			return nil, mountErr(&m, "field BindOptions must not be specified")
		}
		if m.TmpfsOptions != nil {
			return nil, mountErr(&m, "field TmpfsOptions must not be specified")
		}
		if m.Source == "" && m.ReadOnly {
			return nil, mountErr(&m, "must not set ReadOnly mode when using anonymous volumes")
		}
		if o := m.VolumeOptions; o != nil && o.Subpath != "" {
			return nil, mountErr(&m, "volume subpaths are not supported")
		}
		mp.Name, mp.Driver, mp.CopyData = m.Source, "local", true
		if o := m.VolumeOptions; o != nil {
			mp.CopyData = !o.NoCopy
			if o.DriverConfig != nil && o.DriverConfig.Name != "" {
				mp.Driver = o.DriverConfig.Name
			}
		}
	case mount.TypeTmpfs:
		if m.BindOptions != nil {
			return nil, mountErr(&m, "field BindOptions must not be specified")
		}
		if m.VolumeOptions != nil {
			return nil, mountErr(&m, "field VolumeOptions must not be specified")
		}
		if m.Source != "" {
			return nil, mountErr(&m, "field Source must not be specified")
		}
		if _, err := tmpfsOptions(m.TmpfsOptions, m.ReadOnly); err != nil {
			return nil, mountErr(&m, "%v", err)
		}
	default:
		return nil, mountErr(&m, "mount type unknown")
	}
	return mp, nil
}

// tmpfsOptions turns --mount type=tmpfs options into mount data.
func tmpfsOptions(o *mount.TmpfsOptions, readOnly bool) ([]string, error) {
	var out []string
	if readOnly {
		out = append(out, "ro")
	}
	if o == nil {
		return out, nil
	}
	if o.SizeBytes < 0 {
		return nil, errors.New("invalid tmpfs size: must not be negative")
	}
	if o.SizeBytes > 0 {
		out = append(out, fmt.Sprintf("size=%dk", (o.SizeBytes+1023)/1024))
	}
	if o.Mode != 0 {
		out = append(out, fmt.Sprintf("mode=%o", o.Mode))
	}
	for _, kv := range o.Options {
		if len(kv) < 1 || len(kv) > 2 {
			return nil, errors.New("invalid option array length")
		}
		if kv[0] != "exec" && kv[0] != "noexec" {
			return nil, errors.New("invalid option: " + kv[0])
		}
		out = append(out, strings.Join(kv, "="))
	}
	return out, nil
}

// mountPoints parses HostConfig.Binds and Mounts into the container's mount
// points, refusing two on one destination (dockerd's "Duplicate mount
// point"), and adds an anonymous volume for each of the image's VOLUMEs
// that nothing else mounts.
func mountPoints(hc *containertypes.HostConfig, imageVolumes map[string]struct{}) (map[string]*MountPoint, error) {
	out := map[string]*MountPoint{}
	for _, b := range hc.Binds {
		mp, err := parseBind(b)
		if err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
		if _, dup := out[mp.Destination]; dup {
			return nil, errdefs.InvalidParameter(errors.New("Duplicate mount point: " + mp.Destination))
		}
		out[mp.Destination] = mp
	}
	for _, m := range hc.Mounts {
		mp, err := parseMount(m, true)
		if err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
		if _, dup := out[mp.Destination]; dup {
			return nil, errdefs.InvalidParameter(errors.New("Duplicate mount point: " + mp.Destination))
		}
		out[mp.Destination] = mp
	}
	for dst := range hc.Tmpfs {
		if _, dup := out[path.Clean(dst)]; dup {
			return nil, errdefs.InvalidParameter(errors.New("Duplicate mount point: " + path.Clean(dst)))
		}
	}
	var vols []string
	for v := range imageVolumes {
		vols = append(vols, v)
	}
	sort.Strings(vols)
	for _, v := range vols {
		dst := path.Clean(v)
		if _, ok := out[dst]; ok {
			continue
		}
		if _, ok := hc.Tmpfs[dst]; ok {
			continue
		}
		out[dst] = &MountPoint{Type: mount.TypeVolume, Destination: dst, RW: true, Driver: "local", CopyData: true}
	}
	return out, nil
}
