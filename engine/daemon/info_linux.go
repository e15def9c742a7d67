package daemon

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/system"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/engine/server"
	"github.com/wharf-project/wharf/internal/buildinfo"
)

// cgroupRoot is where the host's cgroup hierarchy is mounted.
const cgroupRoot = "/sys/fs/cgroup"

// SystemInfo answers GET /info with figures read from this host.
func (d *Daemon) SystemInfo(ctx context.Context) (*system.Info, error) {
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	var si unix.Sysinfo_t
	_ = unix.Sysinfo(&si)
	hostname, _ := os.Hostname()
	osName, osVersion := osRelease()
	cg := readCgroups()
	cfg := d.Config()

	info := &system.Info{
		ID:                 d.id,
		Driver:             "none",
		DriverStatus:       [][2]string{},
		Plugins:            system.PluginsInfo{Volume: []string{"local"}, Network: []string{"bridge", "host", "none"}, Log: []string{"json-file"}},
		MemoryLimit:        cg.memory,
		SwapLimit:          cg.swap,
		CPUCfsPeriod:       cg.cfs,
		CPUCfsQuota:        cg.cfs,
		CPUShares:          cg.shares,
		CPUSet:             cg.cpuset,
		PidsLimit:          cg.pids,
		OomKillDisable:     cg.version == "1" && cg.memory,
		IPv4Forwarding:     readTrim("/proc/sys/net/ipv4/ip_forward") == "1",
		Debug:              cfg.Debug,
		NFd:                countFDs(),
		NGoroutines:        runtime.NumGoroutine(),
		SystemTime:         time.Now().Format(time.RFC3339Nano),
		LoggingDriver:      "json-file",
		CgroupDriver:       "cgroupfs",
		CgroupVersion:      cg.version,
		NEventsListener:    d.Events.Subscribers(),
		KernelVersion:      unix.ByteSliceToString(uts.Release[:]),
		OperatingSystem:    osName,
		OSVersion:          osVersion,
		OSType:             runtime.GOOS,
		Architecture:       unix.ByteSliceToString(uts.Machine[:]),
		IndexServerAddress: "https://index.docker.io/v1/",
		RegistryConfig:     d.RegistryServiceConfig(),
		NCPU:               runtime.NumCPU(),
		MemTotal:           int64(si.Totalram) * int64(si.Unit),
		DockerRootDir:      cfg.DataRoot,
		HTTPProxy:          os.Getenv("HTTP_PROXY"),
		HTTPSProxy:         os.Getenv("HTTPS_PROXY"),
		NoProxy:            os.Getenv("NO_PROXY"),
		Name:               hostname,
		Labels:             append([]string{}, cfg.Labels...),
		ExperimentalBuild:  cfg.Experimental,
		LiveRestoreEnabled: cfg.LiveRestore,
		ServerVersion:      buildinfo.Version,
		Runtimes:           map[string]system.RuntimeWithStatus{"wharf": {Runtime: system.Runtime{Path: selfPath()}}},
		DefaultRuntime:     "wharf",
		Swarm:              swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive},
		ContainerdCommit:   system.Commit{ID: "none"},
		RuncCommit:         system.Commit{ID: buildinfo.Commit()},
		InitCommit:         system.Commit{ID: "none"},
		SecurityOptions:    []string{},
		CDISpecDirs:        []string{},
		Warnings:           []string{},
	}
	if cg.version == "2" {
		info.SecurityOptions = append(info.SecurityOptions, "name=cgroupns")
	}
	if d.Images != nil {
		_, imgs, err := d.Images.ImageDiskUsage(ctx)
		if err != nil {
			return nil, err
		}
		info.Images = len(imgs)
		if sd, ok := d.Images.(StorageDriverInfo); ok {
			info.Driver, info.DriverStatus = sd.StorageDriver()
		}
	}
	if d.Containers != nil {
		info.ContainersRunning, info.ContainersPaused, info.ContainersStopped = d.Containers.ContainerCounts()
		info.Containers = info.ContainersRunning + info.ContainersPaused + info.ContainersStopped
	}
	// dockerd's host warnings, which the docker CLI prints.
	if !info.MemoryLimit {
		info.Warnings = append(info.Warnings, "WARNING: No memory limit support")
	}
	if !info.SwapLimit {
		info.Warnings = append(info.Warnings, "WARNING: No swap limit support")
	}
	if !info.IPv4Forwarding {
		info.Warnings = append(info.Warnings, "WARNING: IPv4 forwarding is disabled")
	}
	for _, h := range cfg.Hosts {
		if strings.HasPrefix(h, "tcp://") && !cfg.TLS {
			info.Warnings = append(info.Warnings, "WARNING: API is accessible on http://"+strings.TrimPrefix(h, "tcp://")+" without encryption.")
		}
	}
	return info, nil
}

// SystemVersion answers GET /version.
func (d *Daemon) SystemVersion(context.Context) (types.Version, error) {
	cfg := d.Config()
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	kernel := unix.ByteSliceToString(uts.Release[:])
	v := types.Version{
		Version:       buildinfo.Version,
		APIVersion:    server.DefaultVersion,
		MinAPIVersion: server.MinVersion,
		GitCommit:     buildinfo.Commit(),
		GoVersion:     buildinfo.GoVersion(),
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		KernelVersion: kernel,
		Experimental:  cfg.Experimental,
	}
	v.Platform.Name = "wharf"
	v.Components = []types.ComponentVersion{{
		Name:    "Engine",
		Version: v.Version,
		Details: map[string]string{
			"ApiVersion":    v.APIVersion,
			"MinAPIVersion": v.MinAPIVersion,
			"GitCommit":     v.GitCommit,
			"GoVersion":     v.GoVersion,
			"Os":            v.Os,
			"Arch":          v.Arch,
			"KernelVersion": kernel,
			"Experimental":  boolString(v.Experimental),
		},
	}}
	return v, nil
}

// SystemDiskUsage answers GET /system/df. Containers, volumes and build cache
// are empty lists until those parts exist.
func (d *Daemon) SystemDiskUsage(ctx context.Context, opts types.DiskUsageOptions) (*types.DiskUsage, error) {
	want := func(o types.DiskUsageObject) bool {
		if len(opts.Types) == 0 {
			return true
		}
		for _, t := range opts.Types {
			if t == o {
				return true
			}
		}
		return false
	}
	du := &types.DiskUsage{}
	if want(types.ImageObject) {
		du.Images = []*imageSummary{}
		if d.Images != nil {
			size, imgs, err := d.Images.ImageDiskUsage(ctx)
			if err != nil {
				return nil, err
			}
			du.LayersSize, du.Images = size, imgs
			if du.Images == nil {
				du.Images = []*imageSummary{}
			}
		}
	}
	if want(types.ContainerObject) {
		du.Containers = []*containerSummary{}
		if d.Containers != nil {
			cs, err := d.Containers.ContainerDiskUsage(ctx)
			if err != nil {
				return nil, err
			}
			du.Containers = append(du.Containers, cs...)
		}
	}
	if want(types.VolumeObject) {
		du.Volumes = []*volumeSummary{}
		if d.Volumes != nil {
			vs, err := d.Volumes.Usage(ctx)
			if err != nil {
				return nil, err
			}
			du.Volumes = append(du.Volumes, vs...)
		}
	}
	if want(types.BuildCacheObject) {
		du.BuildCache = []*buildCacheRecord{}
	}
	return du, nil
}

// RegistryServiceConfig is the registry part of /info: insecure CIDRs (with
// dockerd's default 127.0.0.0/8), insecure registries by name, mirrors.
func (d *Daemon) RegistryServiceConfig() *registry.ServiceConfig {
	cfg := d.Config()
	sc := &registry.ServiceConfig{
		InsecureRegistryCIDRs: []*registry.NetIPNet{},
		IndexConfigs: map[string]*registry.IndexInfo{
			"docker.io": {Name: "docker.io", Mirrors: nonNil(cfg.RegistryMirrors), Secure: true, Official: true},
		},
		Mirrors: nonNil(cfg.RegistryMirrors),
	}
	for _, r := range append([]string{"127.0.0.0/8"}, cfg.InsecureRegistries...) {
		if _, n, err := net.ParseCIDR(r); err == nil {
			sc.InsecureRegistryCIDRs = append(sc.InsecureRegistryCIDRs, (*registry.NetIPNet)(n))
			continue
		}
		sc.IndexConfigs[r] = &registry.IndexInfo{Name: r, Mirrors: []string{}, Secure: false}
	}
	return sc
}

type cgroupInfo struct {
	version                                 string
	memory, swap, cfs, shares, cpuset, pids bool
}

// readCgroups finds the cgroup version (2 when the unified hierarchy is
// mounted at the root; 1 for legacy and hybrid hosts) and which controllers
// can limit what.
func readCgroups() cgroupInfo {
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		ctrls := " " + readTrim(filepath.Join(cgroupRoot, "cgroup.controllers")) + " "
		has := func(c string) bool { return strings.Contains(ctrls, " "+c+" ") }
		return cgroupInfo{version: "2", memory: has("memory"), swap: has("memory"), cfs: has("cpu"),
			shares: has("cpu"), cpuset: has("cpuset"), pids: has("pids")}
	}
	exists := func(p string) bool { _, err := os.Stat(filepath.Join(cgroupRoot, p)); return err == nil }
	return cgroupInfo{
		version: "1",
		memory:  exists("memory/memory.limit_in_bytes"),
		swap:    exists("memory/memory.memsw.limit_in_bytes"),
		cfs:     exists("cpu/cpu.cfs_period_us") && exists("cpu/cpu.cfs_quota_us"),
		shares:  exists("cpu/cpu.shares"),
		cpuset:  exists("cpuset/cpuset.cpus"),
		pids:    exists("pids/pids.max") || exists("pids"),
	}
}

// osRelease returns PRETTY_NAME and VERSION_ID of /etc/os-release.
func osRelease() (name, version string) {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return "Linux", ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "PRETTY_NAME":
			name = v
		case "VERSION_ID":
			version = v
		}
	}
	if name == "" {
		name = "Linux"
	}
	return name, version
}

func readTrim(p string) string {
	b, _ := os.ReadFile(p)
	return strings.TrimSpace(string(b))
}

func countFDs() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}

func selfPath() string {
	p, err := os.Executable()
	if err != nil {
		return "wharf"
	}
	return p
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
