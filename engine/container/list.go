package container

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// ListOptions are the query of GET /containers/json.
type ListOptions struct {
	All     bool
	Limit   int
	Size    bool
	Filters filters.Args
}

var psFilters = map[string]bool{
	"ancestor": true, "before": true, "exited": true, "id": true, "isolation": true, "label": true,
	"name": true, "status": true, "health": true, "since": true, "volume": true, "network": true,
	"is-task": true, "publish": true, "expose": true,
}

// List is GET /containers/json, newest first, with dockerd's rules: only
// running containers unless all, a limit or a status filter; before/since
// cut the list at a container; exited needs a container that has run.
func (s *Service) List(ctx context.Context, o ListOptions) ([]*containertypes.Summary, error) {
	f := o.Filters
	if err := f.Validate(psFilters); err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	var exited []int
	if err := f.WalkValues("exited", func(v string) error {
		code, err := strconv.Atoi(v)
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid filter 'exited=%s': %w", v, err))
		}
		exited = append(exited, code)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := f.WalkValues("status", func(v string) error {
		if err := containertypes.ValidateContainerState(v); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid filter 'status=%s': %w", v, err))
		}
		o.All = true
		return nil
	}); err != nil {
		return nil, err
	}
	if err := f.WalkValues("health", func(v string) error {
		if err := containertypes.ValidateHealthStatus(v); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid filter 'health=%s': %w", v, err))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if _, err := f.GetBoolOrDefault("is-task", false); err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	var before, since *Container
	for _, k := range []string{"before", "since"} {
		for _, v := range f.Get(k) {
			c, err := s.store.Get(v)
			if err != nil {
				return nil, err
			}
			if k == "before" {
				before = c
			} else {
				since = c
			}
		}
	}
	ancestors := map[string]bool{}
	for _, a := range f.Get("ancestor") {
		if img, err := s.cfg.Images.Inspect(ctx, a); err == nil {
			ancestors[img.ID] = true
		}
	}

	out := []*containertypes.Summary{}
	for _, c := range s.store.All() {
		if before != nil {
			if c.ID == before.ID {
				before = nil
			}
			continue
		}
		if since != nil && c.ID == since.ID {
			break
		}
		sum := s.summary(c)
		sum.Image = s.imageRef(ctx, c)
		if !o.All && o.Limit <= 0 && !c.State.IsRunning() {
			continue
		}
		if !f.Match("name", sum.Names[0]) && !f.Match("name", strings.TrimPrefix(sum.Names[0], "/")) {
			continue
		}
		if !f.Match("id", c.ID) || !f.MatchKVList("label", c.Config.Labels) {
			continue
		}
		if f.Contains("is-task") && f.ExactMatch("is-task", "true") {
			continue // no swarm tasks here
		}
		if o.Limit > 0 && len(out) == o.Limit {
			break
		}
		if len(exited) > 0 && !exitedWith(c, exited) {
			continue
		}
		if !f.Match("status", string(sum.State)) {
			continue
		}
		if f.Contains("health") && !f.ExactMatch("health", healthStatus(c)) {
			continue
		}
		if f.Contains("volume") && !hasVolume(sum.Mounts, f.Get("volume")) {
			continue
		}
		if f.Contains("ancestor") && !ancestors[c.ImageID] {
			continue
		}
		if f.Contains("network") && !inNetwork(sum.NetworkSettings.Networks, f.Get("network")) {
			continue
		}
		if f.Contains("publish") || f.Contains("expose") {
			continue // no published ports without networking
		}
		if f.Contains("isolation") && !f.ExactMatch("isolation", "default") {
			continue
		}
		if o.Size {
			rw, root := s.sizes(ctx, c)
			sum.SizeRw, sum.SizeRootFs = rw, root
		}
		out = append(out, sum)
	}
	return out, nil
}

func exitedWith(c *Container, codes []int) bool {
	st := c.State.API()
	if st.Running || strings.HasPrefix(st.StartedAt, "0001-") {
		return false
	}
	for _, code := range codes {
		if code == st.ExitCode {
			return true
		}
	}
	return false
}

func healthStatus(c *Container) string {
	st := c.State.API()
	if st.Health == nil {
		return containertypes.NoHealthcheck
	}
	return st.Health.Status
}

func hasVolume(mounts []containertypes.MountPoint, want []string) bool {
	for _, w := range want {
		for _, m := range mounts {
			if m.Destination == w || (m.Name != "" && m.Name == w) || (m.Name == "" && m.Source == w) {
				return true
			}
		}
	}
	return false
}

func inNetwork(nets map[string]*network.EndpointSettings, want []string) bool {
	for _, w := range want {
		if _, ok := nets[w]; ok {
			return true
		}
	}
	return false
}

// imageRef is the Image column: the name the container was created with
// while it still means the container's image, else the image's ID.
func (s *Service) imageRef(ctx context.Context, c *Container) string {
	ref := c.Config.Image
	if ref == c.ImageID {
		return ref
	}
	if img, err := s.cfg.Images.Inspect(ctx, ref); err != nil || img.ID != c.ImageID {
		return c.ImageID
	}
	return ref
}

// summary is a container's line in GET /containers/json.
func (s *Service) summary(c *Container) *containertypes.Summary {
	c.mu.Lock()
	defer c.mu.Unlock()
	cmd := c.Path
	if len(c.Args) > 0 {
		args := make([]string, len(c.Args))
		for i, a := range c.Args {
			if strings.Contains(a, " ") {
				a = "'" + a + "'"
			}
			args[i] = a
		}
		cmd += " " + strings.Join(args, " ")
	}
	labels := c.Config.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	sum := &containertypes.Summary{
		ID:              c.ID,
		Names:           []string{c.Name},
		Image:           c.Config.Image,
		ImageID:         c.ImageID,
		Command:         cmd,
		Created:         c.Created.Unix(),
		Ports:           s.summaryPorts(c),
		Labels:          labels,
		State:           c.State.Status(),
		Status:          c.State.String(),
		NetworkSettings: &containertypes.NetworkSettingsSummary{Networks: s.networkSettings(c).Networks},
		Mounts:          apiMounts(c.MountPoints),
	}
	sum.HostConfig.NetworkMode = string(c.HostConfig.NetworkMode)
	return sum
}

var errNoName = errors.New("Neither old nor new names may be empty")
