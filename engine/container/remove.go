package container

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	eventtypes "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// RemoveOptions are the query of DELETE /containers/{name}.
type RemoveOptions struct {
	Force         bool // kill a running container first
	RemoveVolumes bool // v: remove its anonymous volumes too
}

// Remove is DELETE /containers/{name}: the snapshot, the record and the
// name go; the container's volume references are released, and with
// RemoveVolumes its anonymous volumes are removed when nothing else uses
// them. A running container needs Force (and a runtime to kill it).
func (s *Service) Remove(ctx context.Context, name string, o RemoveOptions) error {
	c, err := s.store.Get(name)
	if err != nil {
		return err
	}
	if err := c.State.SetRemovalInProgress(); err != nil {
		return errdefs.Conflict(fmt.Errorf("removal of container %s is already in progress", name))
	}
	done := false
	defer func() {
		if !done {
			c.State.ResetRemovalInProgress()
		}
	}()
	if err := s.cleanup(ctx, c, o); err != nil {
		return fmt.Errorf("cannot remove container %q: %w", name, err)
	}
	done = true
	return nil
}

func (s *Service) cleanup(ctx context.Context, c *Container, o RemoveOptions) error {
	if c.State.IsRunning() {
		st := c.State.API()
		if !o.Force {
			if st.Paused {
				return errdefs.Conflict(errors.New("container is paused and must be unpaused first"))
			}
			return errdefs.Conflict(fmt.Errorf("container is %s: stop the container before removing or force remove", st.Status))
		}
		if err := s.killForRemoval(ctx, c); err != nil {
			return fmt.Errorf("could not kill container: %w", err)
		}
	}
	if err := s.cfg.Snapshotter.Remove(ctx, c.SnapshotKey); err != nil && !isSnapshotNotFound(err) {
		c.State.SetDead()
		_ = c.Save()
		return errdefs.System(fmt.Errorf("unable to remove filesystem for %s: %w", c.ID, err))
	}
	if err := removeDir(c.root); err != nil {
		c.State.SetDead()
		return errdefs.System(fmt.Errorf("unable to remove filesystem for %s: %w", c.ID, err))
	}
	s.store.delete(c)
	s.forget(c)
	s.forgetNetworks(c.ID)
	for _, mp := range c.MountPoints {
		if mp.Type != mount.TypeVolume || mp.Name == "" {
			continue
		}
		s.cfg.Volumes.Release(mp.Name, c.ID)
		if o.RemoveVolumes && mp.Anonymous {
			if err := s.cfg.Volumes.Remove(ctx, mp.Name, false); err != nil && !errdefs.IsNotFound(err) {
				s.log.Warn("anonymous volume kept", "container", c.ID, "volume", mp.Name, "error", err)
			}
		}
	}
	s.event(ctx, c, eventtypes.ActionDestroy, nil)
	return nil
}

// Rename is POST /containers/{name}/rename.
func (s *Service) Rename(ctx context.Context, oldName, newName string) error {
	oldName, newName = strings.TrimSpace(oldName), strings.TrimSpace(newName)
	if strings.TrimPrefix(oldName, "/") == "" || strings.TrimPrefix(newName, "/") == "" {
		return errdefs.InvalidParameter(errNoName)
	}
	c, err := s.store.Get(oldName)
	if err != nil {
		return err
	}
	c.mu.Lock()
	old, err := s.rename(c, newName)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	s.event(ctx, c, eventtypes.ActionRename, map[string]string{"oldName": old})
	return nil
}

// rename changes c's name; call with c.mu held. An invalid name is shown
// with its leading "/", as dockerd shows it.
func (s *Service) rename(c *Container, newName string) (string, error) {
	canon := newName
	if !strings.HasPrefix(canon, "/") {
		canon = "/" + canon
	}
	if c.Name == canon {
		return "", errdefs.InvalidParameter(errors.New("Renaming a container with the same name as its current name"))
	}
	n, err := normalizeName(canon)
	if err != nil {
		return "", fmt.Errorf("Error when allocating new name: %w", err)
	}
	if err := s.store.reserve(n, c.ID); err != nil {
		return "", fmt.Errorf("Error when allocating new name: %w", err)
	}
	old := c.Name
	c.Name = n
	if err := c.saveLocked(); err != nil {
		c.Name = old
		s.store.releaseName(n)
		return "", errdefs.System(err)
	}
	s.store.releaseName(old)
	return old, nil
}

var pruneFilters = map[string]bool{"until": true, "label": true, "label!": true}

// Prune is POST /containers/prune: it removes every container that is not
// running and passes the filters (until, label, label!).
func (s *Service) Prune(ctx context.Context, f filters.Args) (*containertypes.PruneReport, error) {
	if err := f.Validate(pruneFilters); err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	until, err := untilFilter(f)
	if err != nil {
		return nil, err
	}
	if !s.pruneMu.TryLock() {
		return nil, errdefs.Conflict(errors.New("a prune operation is already running"))
	}
	defer s.pruneMu.Unlock()
	rep := &containertypes.PruneReport{} // ContainersDeleted null when nothing goes, as dockerd
	for _, c := range s.store.All() {
		if c.State.IsRunning() {
			continue
		}
		if !until.IsZero() && c.Created.After(until) {
			continue
		}
		if !f.MatchKVList("label", c.Config.Labels) || (f.Contains("label!") && f.MatchKVList("label!", c.Config.Labels)) {
			continue
		}
		size, _ := s.layerSize(ctx, c)
		if err := s.Remove(ctx, c.ID, RemoveOptions{}); err != nil {
			s.log.Warn("container prune: cannot remove container", "container", c.ID, "error", err)
			continue
		}
		rep.ContainersDeleted = append(rep.ContainersDeleted, c.ID)
		rep.SpaceReclaimed += uint64(size)
	}
	if s.cfg.Events != nil {
		s.cfg.Events.Log(ctx, eventtypes.ContainerEventType, eventtypes.ActionPrune, eventtypes.Actor{
			Attributes: map[string]string{"reclaimed": strconv.FormatUint(rep.SpaceReclaimed, 10)}})
	}
	return rep, nil
}

// untilFilter reads the prune filter until: a Unix timestamp, an RFC 3339
// time or a duration before now ("10m").
func untilFilter(f filters.Args) (time.Time, error) {
	vals := f.Get("until")
	if len(vals) == 0 {
		return time.Time{}, nil
	}
	if len(vals) > 1 {
		return time.Time{}, errdefs.InvalidParameter(errors.New("more than one until filter specified"))
	}
	v := vals[0]
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	if sec, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Unix(0, int64(sec*1e9)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errdefs.InvalidParameter(fmt.Errorf("failed to parse value as time or duration: %q", v))
}
