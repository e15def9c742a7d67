package libctr

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/wharf-project/wharf/libctr/configs"
)

// initMessage is what the parent sends the init over the init pipe.
type initMessage struct {
	Exec    bool             `json:"exec,omitempty"` // join a running container instead of making one
	ID      string           `json:"id"`
	Config  *configs.Config  `json:"config"`
	Process *configs.Process `json:"process"`
	// ConsoleSocket is true when the parent passed a unix socket as
	// _LIBCTR_CONSOLEFD to which the init sends the pty master.
	ConsoleSocket bool `json:"console_socket,omitempty"`
	// State is what the createContainer and startContainer hooks, which
	// the init runs, get on stdin (the init cannot know its host pid or
	// the bundle itself).
	State OCIState `json:"state"`
	// CgroupPaths are the container's cgroup directories, the parent's
	// manager's Paths, for the cgroup mount (as an init plan has them).
	CgroupPaths map[string]string `json:"cgroup_paths,omitempty"`
}

// syncMessage is one step of the handshake between init and parent.
type syncMessage struct {
	Type    string `json:"type"` // hooks, resume, ready, error
	Message string `json:"message,omitempty"`
}

const (
	syncHooks  = "hooks"
	syncResume = "resume"
	syncReady  = "ready"
	syncError  = "error"
)

// readSync reads the next message and fails on an error message or EOF.
func readSync(dec *json.Decoder) (syncMessage, error) {
	var m syncMessage
	if err := dec.Decode(&m); err != nil {
		if err == io.EOF {
			return m, fmt.Errorf("container init exited before it was ready")
		}
		return m, fmt.Errorf("read from container init: %w", err)
	}
	if m.Type == syncError {
		return m, fmt.Errorf("container init: %s", m.Message)
	}
	return m, nil
}
