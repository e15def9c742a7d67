package libctr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"time"

	"github.com/wharf-project/wharf/libctr/configs"
)

// runStateHooks runs hooks with the container's state, which is read
// (from /proc and the cgroup) only when there is a hook to give it to.
func (c *Container) runStateHooks(hooks []configs.Hook) error {
	if len(hooks) == 0 {
		return nil
	}
	return runHooks(hooks, c.OCIState())
}

// runHooks runs each hook with the state JSON on stdin, in order, and
// stops at the first failure. A hook without a timeout gets a minute.
func runHooks(hooks []configs.Hook, st OCIState) error {
	if len(hooks) == 0 {
		return nil
	}
	state, err := json.Marshal(st)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		timeout := time.Minute
		if h.Timeout != nil && *h.Timeout > 0 {
			timeout = time.Duration(*h.Timeout) * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		args := h.Args
		if len(args) == 0 {
			args = []string{h.Path}
		}
		cmd := exec.CommandContext(ctx, h.Path)
		cmd.Args, cmd.Env = args, h.Env
		cmd.Stdin = bytes.NewReader(state)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		cancel()
		if err != nil {
			return fmt.Errorf("hook %s: %w: %s", h.Path, err, bytes.TrimSpace(out.Bytes()))
		}
	}
	return nil
}
