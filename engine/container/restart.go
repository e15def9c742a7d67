package container

import (
	"errors"
	"sync"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
)

// Docker's restart back-off: 100 ms after the first exit, doubled after
// each exit up to a minute, and back to the start once a run has lasted
// 10 s.
const (
	restartBackoffStart = 100 * time.Millisecond
	restartBackoffMax   = time.Minute
	restartResetAfter   = 10 * time.Second
)

var errRestartCanceled = errors.New("restart canceled")

// restartManager decides, at each exit, whether the container's restart
// policy restarts it and after how long, as dockerd's restartmanager does.
// A start through the API resets it; a stop or a removal cancels a restart
// that is waiting for its back-off.
type restartManager struct {
	mu       sync.Mutex
	count    int
	timeout  time.Duration
	cancel   chan struct{}
	canceled bool
}

// ShouldRestart reports whether to restart after an exit with code, and
// returns a channel that is closed when the back-off has passed (or
// receives errRestartCanceled).
func (rm *restartManager) ShouldRestart(policy containertypes.RestartPolicy, code int, manuallyStopped bool, ran time.Duration) (bool, <-chan error) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if policy.IsNone() || rm.canceled || manuallyStopped {
		return false, nil
	}
	if ran >= restartResetAfter {
		rm.timeout = 0
	}
	switch {
	case rm.timeout == 0:
		rm.timeout = restartBackoffStart
	case rm.timeout < restartBackoffMax:
		rm.timeout *= 2
	}
	rm.timeout = min(rm.timeout, restartBackoffMax)
	restart := false
	switch {
	case policy.IsAlways(), policy.IsUnlessStopped():
		restart = true
	case policy.IsOnFailure():
		if max := policy.MaximumRetryCount; max == 0 || rm.count < max {
			restart = code != 0
		}
	}
	if !restart {
		return false, nil
	}
	rm.count++
	ch := make(chan error, 1)
	cancel := make(chan struct{})
	rm.cancel = cancel
	timeout := rm.timeout
	go func() {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-cancel:
			ch <- errRestartCanceled
		case <-t.C:
			close(ch)
		}
	}()
	return true, ch
}

// Cancel stops a pending restart and refuses later ones until Reset.
func (rm *restartManager) Cancel() {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.canceled = true
	if rm.cancel != nil {
		close(rm.cancel)
		rm.cancel = nil
	}
}

// Reset starts counting afresh, for a start through the API.
func (rm *restartManager) Reset() {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.cancel != nil {
		close(rm.cancel)
		rm.cancel = nil
	}
	rm.count, rm.timeout, rm.canceled = 0, 0, false
}

// pending reports whether a restart waits for its back-off.
func (rm *restartManager) pending() bool {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return rm.cancel != nil
}

// done marks the end of a back-off (the restart is under way).
func (rm *restartManager) done() {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.cancel = nil
}
