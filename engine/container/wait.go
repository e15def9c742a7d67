package container

import (
	"context"
	"fmt"

	containertypes "github.com/docker/docker/api/types/container"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// Wait is POST /containers/{name}/wait. It registers the waiter and
// returns at once (the route then sends its headers, as dockerd does, so a
// client that starts the container next cannot miss the exit); the
// channel receives the result when the condition is met:
//
//	not-running  now if the container is not running, else at its next exit
//	next-exit    at the next exit (a restart policy does not hide it)
//	removed      when the container has been removed
//
// The channel is closed without a value when ctx ends first.
func (s *Service) Wait(ctx context.Context, name string, cond containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error) {
	switch cond {
	case "", containertypes.WaitConditionNotRunning, containertypes.WaitConditionNextExit, containertypes.WaitConditionRemoved:
	default:
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid condition: %q", cond))
	}
	c, err := s.store.Get(name)
	if err != nil {
		return nil, err
	}
	l := s.live(c)
	l.mu.Lock()
	seq, changed := l.exitSeq, l.changed
	l.mu.Unlock()
	out := make(chan containertypes.WaitResponse, 1)
	result := func() containertypes.WaitResponse {
		st := c.State.API()
		r := containertypes.WaitResponse{StatusCode: int64(st.ExitCode)}
		if st.Error != "" {
			r.Error = &containertypes.WaitExitError{Message: st.Error}
		}
		return r
	}
	if (cond == "" || cond == containertypes.WaitConditionNotRunning) && !c.State.IsRunning() {
		out <- result()
		close(out)
		return out, nil
	}
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
			}
			l.mu.Lock()
			exited, removed := l.exitSeq > seq, l.removed
			changed = l.changed
			code := l.lastExit.Code
			l.mu.Unlock()
			switch {
			case cond == containertypes.WaitConditionRemoved && removed:
				out <- containertypes.WaitResponse{StatusCode: int64(code)}
				return
			case cond != containertypes.WaitConditionRemoved && exited:
				r := result()
				r.StatusCode = int64(code)
				out <- r
				return
			}
		}
	}()
	return out, nil
}
