package image

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/klauspost/compress/gzip"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/reference"
)

// ContainerCommit is an image made from a container (docker commit): the
// container's image, plus one layer of its changes, with a config merged
// as dockerd merges it.
type ContainerCommit struct {
	Parent string    // the container's image ID; "" for none
	Layer  io.Reader // the changes, an uncompressed tar with whiteouts
	// Config is the config the client sent (nil for none); Changes
	// (Dockerfile instructions: CMD, ENV, ...) apply to it, and what it
	// leaves unset comes from ContainerConfig, the container's own.
	Config          *containertypes.Config
	Changes         []string
	ContainerConfig *containertypes.Config
	ContainerID     string
	Author, Comment string
	Ref             reference.Named // the tag to give it, or nil
}

// CommitContainer stores the layer (gzip-compressed), writes the config
// and manifest, unpacks the new layer on the parent's and records the
// image. It returns the image ID.
func (s *Service) CommitContainer(ctx context.Context, o ContainerCommit) (string, error) {
	done := s.beginIngest()
	defer done()
	var cfg imageConfig
	var layers []ocispec.Descriptor
	if o.Parent != "" {
		rec, _, err := s.resolve(ctx, o.Parent)
		if err != nil {
			return "", err
		}
		parent, err := s.config(ctx, rec.ID)
		if err != nil {
			return "", err
		}
		cfg = *parent
		cfg.RootFS.DiffIDs = slices.Clone(parent.RootFS.DiffIDs)
		cfg.History = slices.Clone(parent.History)
		cfg.Parent = rec.ID.String()
		layers = slices.Clone(rec.Layers)
	} else {
		cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
		cfg.RootFS.Type = "layers"
	}
	newCfg := toImageConfig(o.Config)
	if err := applyChanges(&newCfg, o.Changes); err != nil {
		return "", err
	}
	mergeConfig(&newCfg, toImageConfig(o.ContainerConfig))
	cfg.Config = newCfg

	w, err := s.cs.Writer(ctx, "", -1)
	if err != nil {
		return "", errdefs.System(err)
	}
	defer w.Close()
	diff := digest.Canonical.Digester()
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if _, err := io.Copy(io.MultiWriter(zw, diff.Hash()), o.Layer); err != nil {
		return "", errdefs.System(fmt.Errorf("commit: layer: %w", err))
	}
	if err := zw.Close(); err != nil {
		return "", errdefs.System(err)
	}
	info, err := w.Commit()
	if err != nil {
		return "", errdefs.System(err)
	}
	layers = append(layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: info.Digest, Size: info.Size})

	now := time.Now().UTC()
	cfg.Created = &now
	cfg.Author, cfg.Comment, cfg.Container = o.Author, o.Comment, o.ContainerID
	cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diff.Digest())
	createdBy := ""
	if o.ContainerConfig != nil {
		createdBy = strings.Join(o.ContainerConfig.Cmd, " ")
	}
	cfg.History = append(cfg.History, ocispec.History{Created: &now, Author: o.Author, CreatedBy: createdBy, Comment: o.Comment})
	rec, err := s.storeNew(ctx, cfg, layers, o.Ref)
	if err != nil {
		return "", err
	}
	return rec.ID.String(), nil
}

// toImageConfig is the image side of a container config.
func toImageConfig(c *containertypes.Config) dockerspec.DockerOCIImageConfig {
	var out dockerspec.DockerOCIImageConfig
	if c == nil {
		return out
	}
	out.User, out.Env, out.WorkingDir, out.StopSignal = c.User, slices.Clone(c.Env), c.WorkingDir, c.StopSignal
	out.Entrypoint, out.Cmd = slices.Clone(c.Entrypoint), slices.Clone(c.Cmd)
	out.ArgsEscaped = c.ArgsEscaped //nolint:staticcheck // kept as dockerd keeps it
	out.OnBuild, out.Shell = slices.Clone(c.OnBuild), slices.Clone(c.Shell)
	if len(c.Labels) > 0 {
		out.Labels = map[string]string{}
		for k, v := range c.Labels {
			out.Labels[k] = v
		}
	}
	if len(c.ExposedPorts) > 0 {
		out.ExposedPorts = map[string]struct{}{}
		for p := range c.ExposedPorts {
			out.ExposedPorts[string(p)] = struct{}{}
		}
	}
	if len(c.Volumes) > 0 {
		out.Volumes = map[string]struct{}{}
		for v := range c.Volumes {
			out.Volumes[v] = struct{}{}
		}
	}
	if h := c.Healthcheck; h != nil {
		out.Healthcheck = &dockerspec.HealthcheckConfig{Test: slices.Clone(h.Test), Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	return out
}

// mergeConfig fills what user leaves unset from the container's config,
// as dockerd's commit does: user, exposed ports, environment (by name),
// labels, command and entrypoint (the command only without an entrypoint
// of the user's), healthcheck, working directory, volumes, stop signal.
func mergeConfig(user *dockerspec.DockerOCIImageConfig, ctr dockerspec.DockerOCIImageConfig) {
	if user.User == "" {
		user.User = ctr.User
	}
	if len(ctr.ExposedPorts) > 0 {
		if user.ExposedPorts == nil {
			user.ExposedPorts = map[string]struct{}{}
		}
		for p := range ctr.ExposedPorts {
			user.ExposedPorts[p] = struct{}{}
		}
	}
	for _, e := range ctr.Env {
		k, _, _ := strings.Cut(e, "=")
		found := false
		for _, u := range user.Env {
			if uk, _, _ := strings.Cut(u, "="); uk == k {
				found = true
				break
			}
		}
		if !found {
			user.Env = append(user.Env, e)
		}
	}
	if len(ctr.Labels) > 0 {
		if user.Labels == nil {
			user.Labels = map[string]string{}
		}
		for k, v := range ctr.Labels {
			if _, ok := user.Labels[k]; !ok {
				user.Labels[k] = v
			}
		}
	}
	if len(user.Entrypoint) == 0 {
		if len(user.Cmd) == 0 {
			user.Cmd = ctr.Cmd
		}
		if user.Entrypoint == nil {
			user.Entrypoint = ctr.Entrypoint
		}
	}
	if user.Healthcheck == nil {
		user.Healthcheck = ctr.Healthcheck
	}
	if user.WorkingDir == "" {
		user.WorkingDir = ctr.WorkingDir
	}
	if len(ctr.Volumes) > 0 {
		if user.Volumes == nil {
			user.Volumes = map[string]struct{}{}
		}
		for v := range ctr.Volumes {
			user.Volumes[v] = struct{}{}
		}
	}
	if user.StopSignal == "" {
		user.StopSignal = ctr.StopSignal
	}
}
