package container

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	containertypes "github.com/docker/docker/api/types/container"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// pidLister is the part of a runtime that lists a container's processes
// (the in-process runtime has it).
type pidLister interface {
	Pids(ctx context.Context, id string) ([]int, error)
}

// Top is GET /containers/{name}/top: the host's ps with ps_args (default
// -ef), keeping the lines of the container's processes, as dockerd does.
func (s *Service) Top(ctx context.Context, name, psArgs string) (*containertypes.TopResponse, error) {
	c, err := s.store.Get(name)
	if err != nil {
		return nil, err
	}
	st := c.State.API()
	switch {
	case !st.Running:
		return nil, errNotRunning(c.ID)
	case st.Restarting:
		return nil, errdefs.Conflict(fmt.Errorf("Container %s is restarting, wait until the container is running", c.ID))
	}
	pl, ok := s.cfg.Runtime.(pidLister)
	if !ok {
		return nil, errdefs.NotImplemented(fmt.Errorf("the container runtime cannot list processes"))
	}
	pids, err := pl.Pids(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if psArgs == "" {
		psArgs = "-ef"
	}
	args := strings.Fields(psArgs)
	strs := make([]string, len(pids))
	for i, p := range pids {
		strs[i] = strconv.Itoa(p)
	}
	out, err := exec.CommandContext(ctx, "ps", append(append([]string(nil), args...), "-q", strings.Join(strs, ","))...).Output()
	if err != nil || len(pids) == 0 {
		// Some options (f) do not combine with -q: filter the full list.
		out, err = exec.CommandContext(ctx, "ps", args...).Output()
		if err != nil {
			return nil, errdefs.System(fmt.Errorf("Error running ps: %w", err))
		}
	}
	return parsePS(string(out), pids)
}

// parsePS keeps the lines of ps output whose PID column is one of pids
// (and the thread lines, PID "-", under them); the last column takes the
// rest of each line, as a command may have spaces.
func parsePS(out string, pids []int) (*containertypes.TopResponse, error) {
	lines := strings.Split(out, "\n")
	resp := &containertypes.TopResponse{Titles: strings.Fields(lines[0]), Processes: [][]string{}}
	col := -1
	for i, t := range resp.Titles {
		if t == "PID" {
			col = i
			break
		}
	}
	if col < 0 {
		return nil, errdefs.System(fmt.Errorf("Couldn't find PID field in ps output"))
	}
	want := map[int]bool{}
	for _, p := range pids {
		want[p] = true
	}
	in := false
	add := func(f []string) {
		n := len(resp.Titles)
		if len(f) < n {
			return
		}
		row := append(append([]string(nil), f[:n-1]...), strings.Join(f[n-1:], " "))
		resp.Processes = append(resp.Processes, row)
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= col {
			continue
		}
		if f[col] == "-" {
			if in {
				add(f)
			}
			continue
		}
		p, err := strconv.Atoi(f[col])
		if err != nil {
			return nil, errdefs.System(fmt.Errorf("Unexpected pid '%s': %w", f[col], err))
		}
		in = want[p]
		if in {
			add(f)
		}
	}
	return resp, nil
}
