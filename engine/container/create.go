package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	eventtypes "github.com/docker/docker/api/types/events"
	imagetypes "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	networktypes "github.com/docker/docker/api/types/network"
	"github.com/docker/docker/pkg/stringid"
	"github.com/docker/go-connections/nat"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/reference"
)

// CreateParams is the request of POST /containers/create.
type CreateParams struct {
	Name       string
	Config     *containertypes.Config
	HostConfig *containertypes.HostConfig
	Platform   *ocispec.Platform
	// Networking is the request's NetworkingConfig (aliases, static
	// addresses, more networks).
	Networking *networktypes.NetworkingConfig
}

// defaultShmSize is dockerd's /dev/shm size: 64 MiB.
const defaultShmSize = 64 << 20

// Create makes a container: it checks the request as dockerd does, merges
// the image's config into it, reserves the name, prepares the rootfs
// snapshot and the volumes, and writes the record. Every step is undone if
// a later one fails.
func (s *Service) Create(ctx context.Context, p CreateParams) (resp containertypes.CreateResponse, retErr error) {
	if p.Config == nil {
		return resp, errdefs.InvalidParameter(errors.New("Config cannot be empty in order to create a container"))
	}
	cfg, hc := p.Config, p.HostConfig
	if hc == nil {
		hc = &containertypes.HostConfig{}
	}
	warnings, err := verify(cfg, hc, readHostLimits())
	if err != nil {
		return containertypes.CreateResponse{Warnings: nonNil(warnings)}, errdefs.InvalidParameter(err)
	}
	if cfg.Image == "" {
		return resp, errdefs.InvalidParameter(errors.New("image name cannot be blank"))
	}
	img, err := s.cfg.Images.Inspect(ctx, cfg.Image)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return resp, errNoSuchImage(cfg.Image)
		}
		return resp, err
	}
	if pl := p.Platform; pl != nil && (pl.OS != "" && pl.OS != img.Os || pl.Architecture != "" && pl.Architecture != img.Architecture) {
		return resp, errdefs.NotFound(fmt.Errorf("image with reference %s was found but its platform (%s/%s) does not match the specified platform (%s/%s)",
			cfg.Image, img.Os, img.Architecture, pl.OS, pl.Architecture))
	}
	mergeImageConfig(cfg, img)
	if len(cfg.Entrypoint) == 0 && len(cfg.Cmd) == 0 {
		return resp, errdefs.InvalidParameter(errors.New("No command specified"))
	}
	setHostConfigDefaults(hc, cfg)
	s.resolveNetContainer(hc)
	if err := s.verifyLinks(hc); err != nil {
		return resp, err
	}
	var imageVolumes map[string]struct{}
	if img.Config != nil {
		imageVolumes = img.Config.Volumes
	}
	mps, err := mountPoints(hc, mergeVolumes(cfg.Volumes, imageVolumes))
	if err != nil {
		return resp, err
	}

	id := stringid.GenerateRandomID()
	name, err := s.store.reserveName(p.Name, id)
	if err != nil {
		return resp, err
	}
	var undo []func()
	defer func() {
		if retErr != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	undo = append(undo, func() { s.store.releaseName(name) })
	if err := s.registerNetworks(ctx, id, hc, p.Networking); err != nil {
		return resp, err
	}
	undo = append(undo, func() { s.forgetNetworks(id) })

	if cfg.Hostname == "" {
		// As dockerd: the host's name on the host's network, else the short ID.
		cfg.Hostname = id[:12]
		if hc.NetworkMode.IsHost() {
			if cfg.Hostname, err = os.Hostname(); err != nil {
				return resp, errdefs.System(err)
			}
		}
	}
	c := &Container{
		ID: id, Created: time.Now().UTC(), Config: cfg, HostConfig: hc, ImageID: img.ID, Name: name,
		State: NewState(), Driver: s.cfg.SnapshotterName, Platform: "linux", MountPoints: mps,
		SnapshotKey: id, root: s.store.root + "/" + id,
	}
	c.Path, c.Args = entrypointAndArgs(cfg)

	parent := img.GraphDriver.Data["TopLayer"]
	ms, err := s.cfg.Snapshotter.Prepare(ctx, c.SnapshotKey, parent)
	if err != nil {
		return resp, errdefs.System(fmt.Errorf("prepare rootfs of %s: %w", id, err))
	}
	undo = append(undo, func() { _ = s.cfg.Snapshotter.Remove(context.WithoutCancel(ctx), c.SnapshotKey) })
	// Not recursive: a rootfs left mounted is never emptied.
	undo = append(undo, func() { _ = os.Remove(c.rootfsDir()); _ = os.Remove(c.root) })
	if err := createWorkdir(c, ms); err != nil {
		return resp, err
	}

	for _, mp := range orderedMounts(mps) {
		if mp.Type != mount.TypeVolume {
			continue
		}
		var opts, labels map[string]string
		if mp.Spec != nil && mp.Spec.VolumeOptions != nil {
			labels = mp.Spec.VolumeOptions.Labels
			if dc := mp.Spec.VolumeOptions.DriverConfig; dc != nil {
				opts = dc.Options
			}
		}
		v, err := s.cfg.Volumes.Create(ctx, mp.Name, mp.Driver, opts, labels)
		if err != nil {
			return resp, err
		}
		anon := mp.Name == ""
		mp.Name, mp.Source, mp.Driver, mp.Anonymous = v.Name, v.Mountpoint, v.Driver, anon
		if err := s.cfg.Volumes.Acquire(v.Name, id); err != nil {
			return resp, err
		}
		volName := v.Name
		undo = append(undo, func() {
			s.cfg.Volumes.Release(volName, id)
			if anon {
				_ = s.cfg.Volumes.Remove(context.WithoutCancel(ctx), volName, true)
			}
		})
	}

	if err := c.Save(); err != nil {
		return resp, errdefs.System(fmt.Errorf("save container %s: %w", id, err))
	}
	undo = append(undo, func() { _ = os.RemoveAll(c.root) })
	s.store.add(c)
	s.event(ctx, c, eventtypes.ActionCreate, nil)
	return containertypes.CreateResponse{ID: id, Warnings: nonNil(warnings)}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// errNoSuchImage is dockerd's 404 for a create with an unknown image: the
// reference in familiar form with its default tag ("No such image: x:latest").
func errNoSuchImage(name string) error {
	if ref, err := reference.ParseNormalizedNamed(name); err == nil {
		name = reference.FamiliarString(reference.TagNameOnly(ref))
	}
	return errdefs.NotFound(fmt.Errorf("No such image: %s", name))
}

// mergeImageConfig fills what the user left unset from the image, as
// dockerd's merge does: User, Env (image values for keys the user did not
// set), Labels, Cmd (only when neither Cmd nor Entrypoint is set),
// Entrypoint, WorkingDir, ExposedPorts, Volumes, StopSignal, Healthcheck.
func mergeImageConfig(cfg *containertypes.Config, img *imagetypes.InspectResponse) {
	if img.Config == nil {
		return
	}
	ic := img.Config
	if cfg.User == "" {
		cfg.User = ic.User
	}
	if len(ic.ExposedPorts) > 0 {
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = nat.PortSet{}
		}
		for p := range ic.ExposedPorts {
			if _, ok := cfg.ExposedPorts[nat.Port(p)]; !ok {
				cfg.ExposedPorts[nat.Port(p)] = struct{}{}
			}
		}
	}
	if len(cfg.Env) == 0 {
		cfg.Env = append([]string(nil), ic.Env...)
	} else {
		for _, ie := range ic.Env {
			k, _, _ := strings.Cut(ie, "=")
			found := false
			for _, ue := range cfg.Env {
				if uk, _, _ := strings.Cut(ue, "="); uk == k {
					found = true
					break
				}
			}
			if !found {
				cfg.Env = append(cfg.Env, ie)
			}
		}
	}
	if len(ic.Labels) > 0 {
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for k, v := range ic.Labels {
			if _, ok := cfg.Labels[k]; !ok {
				cfg.Labels[k] = v
			}
		}
	}
	if len(cfg.Entrypoint) == 0 {
		if len(cfg.Cmd) == 0 {
			cfg.Cmd = append([]string(nil), ic.Cmd...)
			cfg.ArgsEscaped = ic.ArgsEscaped
		}
		if cfg.Entrypoint == nil {
			cfg.Entrypoint = append([]string(nil), ic.Entrypoint...)
		}
	}
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = ic.WorkingDir
	}
	if cfg.StopSignal == "" {
		cfg.StopSignal = ic.StopSignal
	}
	if h := ic.Healthcheck; h != nil {
		if cfg.Healthcheck == nil {
			cfg.Healthcheck = &containertypes.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
				StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
		} else {
			if len(cfg.Healthcheck.Test) == 0 {
				cfg.Healthcheck.Test = h.Test
			}
			if cfg.Healthcheck.Interval == 0 {
				cfg.Healthcheck.Interval = h.Interval
			}
			if cfg.Healthcheck.Timeout == 0 {
				cfg.Healthcheck.Timeout = h.Timeout
			}
			if cfg.Healthcheck.StartPeriod == 0 {
				cfg.Healthcheck.StartPeriod = h.StartPeriod
			}
			if cfg.Healthcheck.Retries == 0 {
				cfg.Healthcheck.Retries = h.Retries
			}
		}
	}
	cfg.Volumes = mergeVolumes(cfg.Volumes, ic.Volumes)
}

func mergeVolumes(a, b map[string]struct{}) map[string]struct{} {
	if len(b) == 0 {
		return a
	}
	if a == nil {
		a = map[string]struct{}{}
	}
	for v := range b {
		a[v] = struct{}{}
	}
	return a
}

// entrypointAndArgs is the Path and Args of inspect: the first word of
// Entrypoint+Cmd and the rest.
func entrypointAndArgs(cfg *containertypes.Config) (string, []string) {
	argv := append(append([]string(nil), cfg.Entrypoint...), cfg.Cmd...)
	if len(argv) == 0 {
		return "", []string{}
	}
	return argv[0], argv[1:]
}

// setHostConfigDefaults fills dockerd's defaults into a HostConfig.
func setHostConfigDefaults(hc *containertypes.HostConfig, cfg *containertypes.Config) {
	if hc.ShmSize == 0 {
		hc.ShmSize = defaultShmSize
	}
	if hc.Memory > 0 && hc.MemorySwap == 0 {
		hc.MemorySwap = hc.Memory * 2
	}
	if hc.NetworkMode == "" || hc.NetworkMode == "default" {
		hc.NetworkMode = "bridge"
	}
	if hc.IpcMode == "" {
		hc.IpcMode = "private"
	}
	if hc.CgroupnsMode == "" {
		hc.CgroupnsMode = "private"
		if cgroupVersion() == "1" {
			hc.CgroupnsMode = "host"
		}
	}
	if hc.LogConfig.Type == "" {
		hc.LogConfig.Type = "json-file"
	}
	if hc.RestartPolicy.Name == "" {
		hc.RestartPolicy.Name = containertypes.RestartPolicyDisabled
	}
	if hc.Runtime == "" {
		hc.Runtime = "wharf"
	}
	if hc.MaskedPaths == nil && !hc.Privileged {
		hc.MaskedPaths = append([]string(nil), defaultMaskedPaths...)
	}
	if hc.ReadonlyPaths == nil && !hc.Privileged {
		hc.ReadonlyPaths = append([]string(nil), defaultReadonlyPaths...)
	}
	_ = cfg
}

func cgroupVersion() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "2"
	}
	return "1"
}

// readHostLimits reads the CPUs containers may use.
func readHostLimits() hostLimits {
	h := hostLimits{cpus: runtime.NumCPU()}
	for _, p := range []string{"/sys/fs/cgroup/cpuset.cpus.effective", "/sys/fs/cgroup/cpuset/cpuset.cpus"} {
		if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) != "" {
			h.cpu = strings.TrimSpace(string(b))
			return h
		}
	}
	h.cpu = fmt.Sprintf("0-%d", h.cpus-1)
	return h
}
