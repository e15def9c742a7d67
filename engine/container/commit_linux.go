package container

import (
	"context"
	"errors"
	"fmt"
	"io"

	containertypes "github.com/docker/docker/api/types/container"
	eventtypes "github.com/docker/docker/api/types/events"

	"github.com/wharf-project/wharf/engine/archive"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/image"
	"github.com/wharf-project/wharf/engine/reference"
)

// ImageCommitter is what docker commit needs from the image store; the
// Images of the Config implement it when they can make images
// (*image.Service does).
type ImageCommitter interface {
	CommitContainer(ctx context.Context, o image.ContainerCommit) (string, error)
}

// CommitOptions are the query and body of POST /commit.
type CommitOptions struct {
	Container       string
	Repo, Tag       string // the new image's name; Repo "" for none
	Author, Comment string
	Changes         []string               // Dockerfile instructions applied to Config
	Pause           bool                   // freeze a running container meanwhile (the default)
	Config          *containertypes.Config // from the body; nil for none
}

// Commit is POST /commit: an image from the container's image and one
// layer of its changes (docker diff's, as a tar with whiteouts); the
// container is paused meanwhile unless told not to. It returns the image
// ID.
func (s *Service) Commit(ctx context.Context, o CommitOptions) (string, error) {
	ic, ok := s.cfg.Images.(ImageCommitter)
	if !ok {
		return "", errdefs.NotImplemented(errors.New("this daemon's image store cannot commit containers"))
	}
	c, err := s.store.Get(o.Container)
	if err != nil {
		return "", err
	}
	var ref reference.Named
	if o.Repo != "" {
		if ref, err = image.WithTag(o.Repo, o.Tag); err != nil {
			return "", err
		}
		if _, tagged := ref.(reference.Tagged); !tagged {
			return "", errdefs.InvalidParameter(fmt.Errorf("invalid reference format: %s", o.Repo))
		}
	}
	if c.State.RemovalInProgress || c.State.API().Dead {
		return "", errdefs.Conflict(fmt.Errorf("You cannot commit container %s which is being removed", c.ID))
	}
	if o.Pause && c.State.IsRunning() && !c.State.API().Paused {
		if err := s.Pause(ctx, c.ID); err == nil {
			defer func() {
				if err := s.Unpause(context.WithoutCancel(ctx), c.ID); err != nil {
					s.log.Warn("unpause after commit failed", "container", c.ID, "error", err)
				}
			}()
		} else if !errdefs.IsConflict(err) {
			return "", err
		}
	}
	d, err := s.diff(ctx, c)
	if err != nil {
		return "", err
	}
	defer d.release()
	changes := make([]archive.Change, len(d.changes))
	for i, ch := range d.changes {
		changes[i] = archive.Change{Path: ch.Path, Deleted: ch.Kind == containertypes.ChangeDelete}
	}
	pr, pw := io.Pipe()
	exported := make(chan struct{})
	go func() {
		defer close(exported)
		pw.CloseWithError(archive.ExportChanges(ctx, d.root, changes, pw))
	}()
	defer func() {
		pr.Close() // ends an export the image store stopped reading
		<-exported
	}()
	c.Lock()
	ctrCfg := *c.Config
	imageID := c.ImageID
	c.Unlock()
	id, err := ic.CommitContainer(ctx, image.ContainerCommit{
		Parent: imageID, Layer: pr, Config: o.Config, Changes: o.Changes, ContainerConfig: &ctrCfg,
		ContainerID: c.ID, Author: o.Author, Comment: o.Comment, Ref: ref,
	})
	if err != nil {
		return "", err
	}
	attrs := map[string]string{"comment": o.Comment, "imageID": id}
	if ref != nil {
		attrs["imageRef"] = image.Familiar(ref)
	}
	s.event(ctx, c, eventtypes.ActionCommit, attrs)
	return id, nil
}

// Export is GET /containers/{name}/export: the container's root
// filesystem (without its volumes) as a tar, written where open says once
// the container is known.
func (s *Service) Export(ctx context.Context, name string, open func() (io.Writer, error)) error {
	return s.withView(ctx, name, viewOptions{RootfsOnly: true}, func(c *Container, v *fsView) error {
		w, err := open()
		if err != nil {
			return err
		}
		if err := v.do(func() error { return archive.Tar(ctx, "/", w, archive.TarOptions{}) }); err != nil {
			return errdefs.System(err)
		}
		s.event(ctx, c, eventtypes.ActionExport, nil)
		return nil
	})
}
