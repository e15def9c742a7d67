package container

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/storage"
	"github.com/docker/go-connections/nat"
)

// Inspect is GET /containers/{name}/json. With size, SizeRw (the writable
// layer) and SizeRootFs (image plus writable layer) are filled in.
func (s *Service) Inspect(ctx context.Context, name string, size bool) (*containertypes.InspectResponse, error) {
	c, err := s.store.Get(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	base := &containertypes.ContainerJSONBase{
		ID:             c.ID,
		Created:        c.Created.Format(time.RFC3339Nano),
		Path:           c.Path,
		Args:           append([]string{}, c.Args...),
		State:          c.State.API(),
		Image:          c.ImageID,
		ResolvConfPath: c.ResolvConfPath,
		HostnamePath:   c.HostnamePath,
		HostsPath:      c.HostsPath,
		LogPath:        c.LogPath,
		Name:           c.Name,
		RestartCount:   c.RestartCount,
		Driver:         c.Driver,
		Platform:       c.Platform,
		HostConfig:     c.HostConfig,
		GraphDriver:    s.graphDriver(ctx, c),
	}
	resp := &containertypes.InspectResponse{
		ContainerJSONBase: base,
		Mounts:            apiMounts(c.MountPoints),
		Config:            c.Config,
		NetworkSettings:   s.networkSettings(c),
	}
	c.mu.Unlock()
	if size {
		rw, root := s.sizes(ctx, c)
		base.SizeRw, base.SizeRootFs = &rw, &root
	}
	return resp, nil
}

// graphDriver describes the rootfs snapshot as dockerd's overlay2 does:
// LowerDir, UpperDir, WorkDir and MergedDir.
func (s *Service) graphDriver(ctx context.Context, c *Container) storage.DriverData {
	gd := storage.DriverData{Name: c.Driver, Data: map[string]string{}}
	ms, err := s.cfg.Snapshotter.Mounts(ctx, c.SnapshotKey)
	if err != nil || len(ms) == 0 {
		return gd
	}
	gd.Data["MergedDir"] = filepath.Join(c.root, "rootfs")
	for _, o := range ms[0].Options {
		k, v, ok := strings.Cut(o, "=")
		if !ok {
			continue
		}
		switch k {
		case "lowerdir":
			gd.Data["LowerDir"] = v
		case "upperdir":
			gd.Data["UpperDir"] = v
		case "workdir":
			gd.Data["WorkDir"] = v
		}
	}
	if ms[0].Type == "bind" || ms[0].Type == "rbind" {
		gd.Data["UpperDir"] = ms[0].Source
	}
	return gd
}

// sizes is the writable layer's size and that plus the image's.
func (s *Service) sizes(ctx context.Context, c *Container) (rw, root int64) {
	rw, _ = s.layerSize(ctx, c)
	root = rw
	if img, err := s.cfg.Images.Inspect(ctx, c.ImageID); err == nil {
		root += img.Size
	}
	return rw, root
}

// apiMounts lists the mount points as inspect and ps show them, by
// destination.
func apiMounts(mps map[string]*MountPoint) []containertypes.MountPoint {
	out := make([]containertypes.MountPoint, 0, len(mps))
	for _, mp := range mps {
		out = append(out, containertypes.MountPoint{
			Type: mp.Type, Name: mp.Name, Source: mp.Source, Destination: mp.Destination,
			Driver: mp.Driver, Mode: mp.Mode, RW: mp.RW, Propagation: mp.Propagation,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out
}

// networkSettings is the container's network as far as the store knows it:
// the network of its mode, with no addresses until networking gives some.
func networkSettings(c *Container) *containertypes.NetworkSettings {
	mode := string(c.HostConfig.NetworkMode)
	ns := &containertypes.NetworkSettings{
		NetworkSettingsBase: containertypes.NetworkSettingsBase{Ports: nat.PortMap{}},
		Networks:            map[string]*network.EndpointSettings{},
	}
	if mode != "" && !strings.HasPrefix(mode, "container:") {
		ns.Networks[mode] = &network.EndpointSettings{}
	}
	return ns
}
