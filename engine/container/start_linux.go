package container

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"

	eventtypes "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/mount"
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/snapshots"
)

// errNoRuntime is the 501 of a start (or a kill) on a daemon without a
// container runtime.
func errNoRuntime() error {
	return errdefs.NotImplemented(errors.New("this wharf daemon has no container runtime configured: containers can be created, inspected and removed, but not started"))
}

func isSnapshotNotFound(err error) bool { return errors.Is(err, snapshots.ErrNotFound) }

// rootfsDir is where a container's snapshot is mounted while it runs.
func (c *Container) rootfsDir() string { return filepath.Join(c.root, "rootfs") }

// PrepareStart readies a container to run and returns its spec: the rootfs
// snapshot mounted on <dir>/rootfs, its volumes mounted (a new, empty one
// filled with the image's files at its destination first), missing -v
// sources made, /etc files written, the user resolved in the image. Undo
// with CleanupStop.
func (s *Service) PrepareStart(ctx context.Context, id string) (_ *specs.Spec, retErr error) {
	c, err := s.store.Get(id)
	if err != nil {
		return nil, err
	}
	hc := c.HostConfig
	var shared *sharedNetwork
	switch {
	case hc.NetworkMode.IsContainer():
		if shared, err = s.networkedContainer(c); err != nil {
			return nil, err
		}
	case !hc.NetworkMode.IsHost() && !hc.NetworkMode.IsNone() && !s.cfg.BridgeNetworking:
		return nil, errdefs.NotImplemented(fmt.Errorf("network mode %q is not available yet in wharf: use --network none or --network host", hc.NetworkMode))
	}
	linkHosts, err := s.linkHosts(c)
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			s.CleanupStop(context.WithoutCancel(ctx), c.ID)
		}
	}()
	ms, err := s.cfg.Snapshotter.Mounts(ctx, c.SnapshotKey)
	if err != nil {
		return nil, errdefs.System(fmt.Errorf("rootfs of %s: %w", c.ID, err))
	}
	rootfs := c.rootfsDir()
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return nil, errdefs.System(err)
	}
	if mounted, _ := mountinfo.Mounted(rootfs); !mounted {
		if err := snapshots.MountAll(ms, rootfs); err != nil {
			return nil, errdefs.System(err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sources := map[string]string{}
	for _, mp := range orderedMounts(c.MountPoints) {
		switch mp.Type {
		case mount.TypeVolume:
			if c.mounted[mp.Name] { // prepared before and not cleaned up
				sources[mp.Destination] = mp.Source
				continue
			}
			p, err := s.mountVolume(ctx, c, mp.Name)
			if err != nil {
				return nil, err
			}
			sources[mp.Destination] = p
			s.volumeEvent(ctx, eventtypes.ActionMount, mp.Name, map[string]string{"container": c.ID, "destination": mp.Destination,
				"driver": mp.Driver, "propagation": string(mp.Propagation), "read/write": fmt.Sprint(mp.RW)})
			if mp.CopyData {
				if err := copyUp(rootfs, mp.Destination, p); err != nil {
					return nil, errdefs.System(fmt.Errorf("copy image files into volume %s: %w", mp.Name, err))
				}
				mp.CopyData = false // once, as dockerd
			}
		case mount.TypeBind:
			if err := makeBindSource(mp); err != nil {
				return nil, err
			}
		}
	}
	joined, err := s.joinNetworks(ctx, c)
	if err != nil {
		return nil, err
	}
	s.setJoined(c.ID, joined)
	if shared != nil {
		useSharedNetwork(c, shared)
		joined = shared.joined
	} else if err := s.writeEtcFiles(c, linkHosts); err != nil {
		return nil, errdefs.System(err)
	}
	u, err := resolveUser(rootfs, c.Config.User, hc.GroupAdd)
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	in := specInput{Rootfs: rootfs, User: u, Bounding: boundingCaps(), Sources: sources}
	if hc.Privileged {
		in.HostDevices = hostDevices()
	}
	spec, err := buildSpec(c, in)
	if err != nil {
		return nil, err
	}
	if err := s.applyInit(c, spec); err != nil {
		return nil, err
	}
	setNetns(spec, joined)
	if err := c.saveLocked(); err != nil {
		return nil, errdefs.System(err)
	}
	return spec, nil
}

// CleanupStop undoes PrepareStart: volumes and the rootfs are unmounted.
func (s *Service) CleanupStop(ctx context.Context, id string) {
	c, err := s.store.Get(id)
	if err != nil {
		return
	}
	c.mu.Lock()
	var vols []*MountPoint
	for _, mp := range c.MountPoints {
		if mp.Type == mount.TypeVolume && c.mounted[mp.Name] {
			vols = append(vols, mp)
			delete(c.mounted, mp.Name)
		}
	}
	c.mu.Unlock()
	for _, mp := range vols {
		if err := s.cfg.Volumes.Unmount(ctx, mp.Name, c.ID); err != nil {
			s.log.Warn("volume unmount failed", "container", c.ID, "volume", mp.Name, "error", err)
			continue
		}
		s.volumeEvent(ctx, eventtypes.ActionUnmount, mp.Name, map[string]string{"container": c.ID, "driver": mp.Driver})
	}
	if err := snapshots.UnmountAll(c.rootfsDir()); err != nil {
		s.log.Warn("rootfs unmount failed", "container", c.ID, "error", err)
	}
	s.setJoined(c.ID, nil)
	s.leaveNetworks(ctx, c.ID)
}

// makeBindSource makes the missing source directory of a -v bind (or of a
// --mount bind with CreateMountpoint), as dockerd does. A source that
// exists is used as it is, whatever it is: a file, a socket, a device.
func makeBindSource(mp *MountPoint) error {
	if mp.Spec != nil && (mp.Spec.BindOptions == nil || !mp.Spec.BindOptions.CreateMountpoint) {
		return nil // --mount: the source was checked at create
	}
	if _, err := os.Stat(mp.Source); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.MkdirAll(mp.Source, 0o755); err != nil && !errors.Is(err, syscall.ENOTDIR) {
		// ENOTDIR (a file on the way) is left to the mount, as dockerd does.
		return errdefs.InvalidParameter(fmt.Errorf("error while creating mount source path '%s': %w", mp.Source, err))
	}
	return nil
}

// mountVolume mounts volume name for c and records it in c.mounted, so
// that the container's cleanup unmounts it. Call with c.mu held.
func (s *Service) mountVolume(ctx context.Context, c *Container, name string) (string, error) {
	p, err := s.cfg.Volumes.Mount(ctx, name, c.ID)
	if err != nil {
		return "", err
	}
	if c.mounted == nil {
		c.mounted = map[string]bool{}
	}
	c.mounted[name] = true
	return p, nil
}

// volumeEvent publishes a volume's mount or unmount, as dockerd does.
func (s *Service) volumeEvent(ctx context.Context, action eventtypes.Action, name string, attrs map[string]string) {
	if s.cfg.Events != nil {
		s.cfg.Events.Log(ctx, eventtypes.VolumeEventType, action, eventtypes.Actor{ID: name, Attributes: attrs})
	}
}

// errNotModified is dockerd's 304 for starting a running container.
type errNotModified struct{}

func (errNotModified) Error() string { return "container already started" }

// NotModified marks the 304 for the router.
func (errNotModified) NotModified() {}

// IsNotModified reports whether err means "nothing to do" (HTTP 304).
func IsNotModified(err error) bool {
	var e interface{ NotModified() }
	return errors.As(err, &e)
}

// copyUp copies the image's files at dst in the rootfs into an empty volume
// directory, keeping modes, owners and symlinks; a volume with files, or a
// destination the image lacks, is left alone.
func copyUp(rootfs, dst, volume string) error {
	ents, err := os.ReadDir(volume)
	if err != nil || len(ents) > 0 {
		return err
	}
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return err
	}
	defer root.Close()
	rel := path.Clean("." + dst)
	fi, err := root.Stat(rel)
	if err != nil || !fi.IsDir() {
		return nil
	}
	sub, err := root.OpenRoot(rel)
	if err != nil {
		return err
	}
	defer sub.Close()
	// The volume's root takes the directory's mode and owner.
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		_ = os.Chmod(volume, fi.Mode().Perm())
		_ = os.Lchown(volume, int(st.Uid), int(st.Gid))
	}
	return fs.WalkDir(sub.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		target := filepath.Join(volume, p)
		info, err := sub.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := sub.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		case info.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			in, err := sub.Open(p)
			if err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, info.Mode().Perm())
			if err != nil {
				in.Close()
				return err
			}
			_, err = out.ReadFrom(in)
			in.Close()
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return nil // device nodes, fifos and sockets are not copied
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			_ = os.Lchown(target, int(st.Uid), int(st.Gid))
			if info.Mode()&fs.ModeSymlink == 0 {
				_ = os.Chmod(target, info.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
			}
		}
		return nil
	})
}

// deviceOf describes a device node for the spec.
func deviceOf(p string) (specs.LinuxDevice, bool) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return specs.LinuxDevice{}, false
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return specs.LinuxDevice{}, false
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{Path: p, Type: typ, Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
		FileMode: &mode, UID: &uid, GID: &gid}, true
}
