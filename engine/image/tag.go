package image

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/events"
	"github.com/wharf-project/wharf/engine/reference"
)

// Tag points repo:tag (tag defaults to latest) at the image source names.
func (s *Service) Tag(ctx context.Context, source, repo, tag string) error {
	rec, _, err := s.resolve(ctx, source)
	if err != nil {
		return err
	}
	ref, err := WithTag(repo, tag)
	if err != nil {
		return err
	}
	if isDigestRef(ref) {
		return errdefs.InvalidParameter(errors.New("refusing to create a tag with a digest reference"))
	}
	if _, isTagged := ref.(reference.Tagged); !isTagged {
		return errdefs.InvalidParameter(fmt.Errorf("invalid reference format: %s", repo))
	}
	return s.setTag(ctx, ref, rec)
}

func (s *Service) setTag(ctx context.Context, ref reference.Named, rec Record) error {
	s.mu.Lock()
	if _, err := s.db.setRef(ref.String(), rec.ID); err != nil {
		s.mu.Unlock()
		return errdefs.System(err)
	}
	if !isDigestRef(ref) {
		if cur, err := s.db.get(rec.ID); err == nil {
			cur.TagTime = time.Now().UTC()
			s.db.put(cur)
		}
	}
	s.mu.Unlock()
	if !isDigestRef(ref) {
		s.event(ctx, events.ActionTag, rec.ID.String(), map[string]string{"name": Familiar(ref)})
	}
	return nil
}
