package container

import (
	"fmt"
	"sync"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	units "github.com/docker/go-units"
)

// State is a container's run state, with dockerd's fields (config.v2.json's
// "State"). A container moves through it like this:
//
//	created --start--> running --pause--> paused --unpause--> running
//	   |                 |  \--exit/kill--> exited --start--> running
//	   |                 \--exit, restart policy--> restarting --> running
//	   \--rm--> removing --> (gone)            (any) --rm fails--> dead
//
// The setters keep the flags consistent (a paused container is also
// running; an exited one has a FinishedAt) and wake waiters (see Changed).
// State has its own lock; methods may be called from any goroutine.
type State struct {
	mu sync.Mutex

	Running           bool
	Paused            bool
	Restarting        bool
	OOMKilled         bool
	RemovalInProgress bool
	Dead              bool
	Pid               int
	ExitCodeValue     int    `json:"ExitCode"`
	ErrorMsg          string `json:"Error"`
	StartedAt         time.Time
	FinishedAt        time.Time
	Health            *containertypes.Health `json:",omitempty"`

	changed chan struct{} // closed and replaced at every change
}

// NewState is the state of a container just created.
func NewState() *State { return &State{} }

// Changed returns a channel closed at the next change of state, for
// waiters: take it, check the state, wait on it, repeat.
func (s *State) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

func (s *State) notify() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// status is dockerd's state word; call with s.mu held.
func (s *State) status() containertypes.ContainerState {
	switch {
	case s.Running && s.Paused:
		return containertypes.StatePaused
	case s.Running && s.Restarting:
		return containertypes.StateRestarting
	case s.Running:
		return containertypes.StateRunning
	case s.RemovalInProgress:
		return containertypes.StateRemoving
	case s.Dead:
		return containertypes.StateDead
	case s.StartedAt.IsZero():
		return containertypes.StateCreated
	}
	return containertypes.StateExited
}

// Status is "created", "running", "paused", "restarting", "removing",
// "exited" or "dead".
func (s *State) Status() containertypes.ContainerState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status()
}

// IsRunning reports whether the container's process runs (paused or not).
func (s *State) IsRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Running
}

// ExitCode is the code of the last exit.
func (s *State) ExitCode() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ExitCodeValue
}

// SetRunning records a started process.
func (s *State) SetRunning(pid int, started time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ErrorMsg = ""
	s.Running, s.Paused, s.Restarting, s.OOMKilled, s.Dead = true, false, false, false, false
	s.ExitCodeValue, s.Pid, s.StartedAt = 0, pid, started.UTC()
	s.notify()
}

// SetStopped records the end of the process.
func (s *State) SetStopped(exitCode int, oomKilled bool, finished time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Running, s.Paused, s.Restarting, s.Pid = false, false, false, 0
	s.ExitCodeValue, s.OOMKilled = exitCode, oomKilled
	s.FinishedAt = finished.UTC()
	s.notify()
}

// SetError records why the last start failed (its exit code is set too:
// 125 for the daemon's refusal, 126/127 for a command that cannot run).
func (s *State) SetError(exitCode int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ErrorMsg, s.ExitCodeValue = err.Error(), exitCode
	s.notify()
}

// SetRestarting marks a container whose restart policy restarts it.
func (s *State) SetRestarting(exitCode int, finished time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Running, s.Restarting, s.Paused, s.Pid = true, true, false, 0
	s.ExitCodeValue, s.FinishedAt = exitCode, finished.UTC()
	s.notify()
}

// SetPaused and SetUnpaused follow the freezer.
func (s *State) SetPaused() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Paused = true
	s.notify()
}

// SetUnpaused marks a paused container running again.
func (s *State) SetUnpaused() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Paused = false
	s.notify()
}

// SetRemovalInProgress marks the start of a removal; it fails when one is
// already under way (dockerd's 409).
func (s *State) SetRemovalInProgress() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.RemovalInProgress {
		return errConflictf("removal of container is already in progress")
	}
	s.RemovalInProgress = true
	s.notify()
	return nil
}

// ResetRemovalInProgress ends a removal that did not complete.
func (s *State) ResetRemovalInProgress() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.RemovalInProgress = false
	s.notify()
}

// SetDead marks a container that could not be removed.
func (s *State) SetDead() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Dead = true
	s.notify()
}

// API returns the State of GET /containers/{id}/json.
func (s *State) API() *containertypes.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &containertypes.State{
		Status:     s.status(),
		Running:    s.Running,
		Paused:     s.Paused,
		Restarting: s.Restarting,
		OOMKilled:  s.OOMKilled,
		Dead:       s.Dead,
		Pid:        s.Pid,
		ExitCode:   s.ExitCodeValue,
		Error:      s.ErrorMsg,
		StartedAt:  s.StartedAt.Format(time.RFC3339Nano),
		FinishedAt: s.FinishedAt.Format(time.RFC3339Nano),
		Health:     s.Health,
	}
}

// String is the Status column of `docker ps`: "Up 5 minutes", "Exited (0)
// 2 hours ago", "Created", ... as dockerd words it.
func (s *State) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.Running {
		if s.Paused {
			return fmt.Sprintf("Up %s (Paused)", units.HumanDuration(now.Sub(s.StartedAt)))
		}
		if s.Restarting {
			return fmt.Sprintf("Restarting (%d) %s ago", s.ExitCodeValue, units.HumanDuration(now.Sub(s.FinishedAt)))
		}
		up := "Up " + units.HumanDuration(now.Sub(s.StartedAt))
		if s.Health != nil && s.Health.Status != containertypes.NoHealthcheck {
			if s.Health.Status == containertypes.Starting {
				return up + " (health: starting)"
			}
			return up + " (" + s.Health.Status + ")"
		}
		return up
	}
	switch {
	case s.RemovalInProgress:
		return "Removal In Progress"
	case s.Dead:
		return "Dead"
	case s.StartedAt.IsZero():
		return "Created"
	case s.FinishedAt.IsZero():
		return ""
	}
	return fmt.Sprintf("Exited (%d) %s ago", s.ExitCodeValue, units.HumanDuration(now.Sub(s.FinishedAt)))
}
