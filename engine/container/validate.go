package container

import (
	"errors"
	"fmt"
	"net"
	"path"
	"runtime"
	"strings"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
)

// linuxMinMemory is dockerd's smallest memory limit: 6 MiB.
const linuxMinMemory = 6 * 1024 * 1024

// verify checks a create request as dockerd's verifyContainerSettings does,
// with its messages (the caller makes them 400s), and returns dockerd's
// warnings. It cleans WorkingDir.
func verify(cfg *containertypes.Config, hc *containertypes.HostConfig, host hostLimits) (warnings []string, _ error) {
	if cfg.WorkingDir != "" {
		if !path.IsAbs(cfg.WorkingDir) {
			return nil, fmt.Errorf("the working directory '%s' is invalid, it needs to be an absolute path", cfg.WorkingDir)
		}
		cfg.WorkingDir = path.Clean(cfg.WorkingDir)
	}
	if cfg.StopSignal != "" {
		if _, err := ParseSignal(cfg.StopSignal); err != nil {
			return nil, err
		}
	}
	for _, e := range cfg.Env {
		if k, _, _ := strings.Cut(e, "="); k == "" {
			return nil, errors.New("invalid environment variable: " + e)
		}
	}
	if err := verifyHealthcheck(cfg.Healthcheck); err != nil {
		return nil, err
	}
	if err := validateNetContainerMode(cfg, hc); err != nil {
		return nil, err
	}
	if hc.AutoRemove && !hc.RestartPolicy.IsNone() {
		return nil, errors.New("can't create 'AutoRemove' container with restart policy")
	}
	for _, h := range hc.ExtraHosts {
		name, ip, ok := strings.Cut(h, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("bad format for add-host: %q", h)
		}
		if ip != "host-gateway" && net.ParseIP(strings.Trim(ip, "[]")) == nil {
			return nil, fmt.Errorf("invalid IP address in add-host: %q", ip)
		}
	}
	for port, bindings := range hc.PortBindings {
		_, p := nat.SplitProtoPort(string(port))
		if _, err := nat.ParsePort(p); err != nil {
			return nil, fmt.Errorf("invalid port specification: %q", p)
		}
		for _, b := range bindings {
			if b.HostPort == "" {
				continue // any free host port, as dockerd
			}
			if _, err := nat.NewPort(nat.SplitProtoPort(b.HostPort)); err != nil {
				return nil, fmt.Errorf("invalid port specification: %q", b.HostPort)
			}
		}
	}
	if err := containertypes.ValidateRestartPolicy(hc.RestartPolicy); err != nil {
		return nil, err
	}
	if _, err := normalizeCaps(hc.CapAdd); err != nil {
		return nil, fmt.Errorf("invalid CapAdd: %w", err)
	}
	if _, err := normalizeCaps(hc.CapDrop); err != nil {
		return nil, fmt.Errorf("invalid CapDrop: %w", err)
	}
	w, err := verifyResources(&hc.Resources, host)
	warnings = append(warnings, w...)
	if err != nil {
		return warnings, err
	}
	if !hc.IpcMode.Valid() {
		return warnings, fmt.Errorf("invalid IPC mode: %v", hc.IpcMode)
	}
	if !hc.PidMode.Valid() {
		return warnings, fmt.Errorf("invalid PID mode: %v", hc.PidMode)
	}
	if hc.ShmSize < 0 {
		return warnings, errors.New("SHM size can not be less than 0")
	}
	if !hc.UTSMode.Valid() {
		return warnings, fmt.Errorf("invalid UTS mode: %v", hc.UTSMode)
	}
	if hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000 {
		return warnings, fmt.Errorf("Invalid value %d, range for oom score adj is [-1000, 1000]", hc.OomScoreAdj)
	}
	if hc.NetworkMode.IsHost() && len(hc.PortBindings) > 0 {
		warnings = append(warnings, "Published ports are discarded when using host network mode")
	}
	for dst := range hc.Tmpfs {
		if path.Clean(dst) == "/" {
			return warnings, errors.New("invalid specification: destination can't be '/'")
		}
		if !path.IsAbs(dst) {
			return warnings, fmt.Errorf("invalid mount path: '%s' mount path must be absolute", dst)
		}
	}
	if !hc.CgroupnsMode.Valid() {
		return warnings, fmt.Errorf("invalid cgroup namespace mode: %v", hc.CgroupnsMode)
	}
	for _, o := range hc.SecurityOpt {
		if err := validSecurityOpt(o); err != nil {
			return warnings, err
		}
	}
	if hc.LogConfig.Type != "" && hc.LogConfig.Type != "json-file" && hc.LogConfig.Type != "none" {
		return warnings, fmt.Errorf("failed to create logging driver: logger: no log driver named '%s' is registered", hc.LogConfig.Type)
	}
	return warnings, nil
}

func verifyHealthcheck(h *containertypes.HealthConfig) error {
	if h == nil {
		return nil
	}
	min := containertypes.MinimumDuration
	switch {
	case h.Interval != 0 && h.Interval < min:
		return fmt.Errorf("Interval in Healthcheck cannot be less than %s", min)
	case h.Timeout != 0 && h.Timeout < min:
		return fmt.Errorf("Timeout in Healthcheck cannot be less than %s", min)
	case h.Retries < 0:
		return errors.New("Retries in Healthcheck cannot be negative")
	case h.StartPeriod != 0 && h.StartPeriod < min:
		return fmt.Errorf("StartPeriod in Healthcheck cannot be less than %s", min)
	case h.StartInterval != 0 && h.StartInterval < min:
		return fmt.Errorf("StartInterval in Healthcheck cannot be less than %s", min)
	}
	return nil
}

func validSecurityOpt(o string) error {
	if o == "no-new-privileges" {
		return nil
	}
	k, v, ok := strings.Cut(o, "=")
	if !ok {
		k, v, ok = strings.Cut(o, ":")
	}
	if !ok {
		return fmt.Errorf("invalid --security-opt 1: %q", o)
	}
	switch k {
	case "no-new-privileges":
		if v != "true" && v != "false" {
			return fmt.Errorf("invalid --security-opt 2: %q", o)
		}
	case "seccomp", "apparmor", "label", "systempaths", "writable-cgroups", "mask", "unmask":
	default:
		return fmt.Errorf("invalid --security-opt 2: %q", o)
	}
	return nil
}

// hostLimits is what this host's cgroups can limit (engine/daemon reads the
// same facts for /info).
type hostLimits struct {
	cpus int    // online CPUs
	cpu  string // cpuset of the root cgroup, e.g. "0-1"
}

func verifyResources(r *containertypes.Resources, host hostLimits) (warnings []string, _ error) {
	if r.Memory != 0 && r.Memory < linuxMinMemory {
		return nil, errors.New("Minimum memory limit allowed is 6MB")
	}
	if r.Memory > 0 && r.MemorySwap > 0 && r.MemorySwap < r.Memory {
		return nil, errors.New("Minimum memoryswap limit should be larger than memory limit, see usage")
	}
	if r.Memory == 0 && r.MemorySwap > 0 {
		return nil, errors.New("You should always set the Memory limit when using Memoryswap limit, see usage")
	}
	if r.MemorySwappiness != nil && *r.MemorySwappiness != -1 && (*r.MemorySwappiness < 0 || *r.MemorySwappiness > 100) {
		return nil, fmt.Errorf("Invalid value: %v, valid memory swappiness range is 0-100", *r.MemorySwappiness)
	}
	if r.MemoryReservation > 0 && r.MemoryReservation < linuxMinMemory {
		return nil, errors.New("Minimum memory reservation allowed is 6MB")
	}
	if r.Memory > 0 && r.MemoryReservation > 0 && r.Memory < r.MemoryReservation {
		return nil, errors.New("Minimum memory limit can not be less than memory reservation limit, see usage")
	}
	if r.OomKillDisable != nil && *r.OomKillDisable && r.Memory == 0 {
		warnings = append(warnings, "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.")
	}
	if r.NanoCPUs > 0 && r.CPUPeriod > 0 {
		return warnings, errors.New("Conflicting options: Nano CPUs and CPU Period cannot both be set")
	}
	if r.NanoCPUs > 0 && r.CPUQuota > 0 {
		return warnings, errors.New("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
	}
	if nc := host.cpus; r.NanoCPUs != 0 && (r.NanoCPUs < 0 || r.NanoCPUs > int64(nc)*1e9) {
		return warnings, fmt.Errorf("range of CPUs is from 0.01 to %[1]d.00, as there are only %[1]d CPUs available", nc)
	}
	if r.CPUShares < 0 {
		return warnings, fmt.Errorf("invalid CPU shares (%d): value must be a positive integer", r.CPUShares)
	}
	if r.CPUPeriod != 0 && (r.CPUPeriod < 1000 || r.CPUPeriod > 1000000) {
		return warnings, errors.New("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
	}
	if r.CPUQuota > 0 && r.CPUQuota < 1000 {
		return warnings, errors.New("CPU cfs quota can not be less than 1ms (i.e. 1000)")
	}
	if r.CPUPercent > 0 {
		warnings = append(warnings, fmt.Sprintf("%s does not support CPU percent. Percent discarded.", runtime.GOOS))
		r.CPUPercent = 0
	}
	if r.CpusetCpus != "" {
		want, err := parseCPUSet(r.CpusetCpus)
		if err != nil {
			return warnings, fmt.Errorf("Invalid value %s for cpuset cpus: %w", r.CpusetCpus, err)
		}
		have, _ := parseCPUSet(host.cpu)
		for c := range want {
			if !have[c] {
				return warnings, fmt.Errorf("Requested CPUs are not available - requested %s, available: %s", r.CpusetCpus, host.cpu)
			}
		}
	}
	if r.BlkioWeight > 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000) {
		return warnings, errors.New("Range of blkio weight is from 10 to 1000")
	}
	if r.PidsLimit != nil && *r.PidsLimit <= 0 {
		r.PidsLimit = nil // 0 and -1 are "unlimited"
	}
	for _, u := range r.Ulimits {
		if u.Soft > u.Hard {
			return warnings, fmt.Errorf("ulimit soft limit must be less than or equal to hard limit: %d > %d", u.Soft, u.Hard)
		}
		if _, ok := rlimitNames[u.Name]; !ok {
			return warnings, fmt.Errorf("invalid ulimit type: %s", u.Name)
		}
	}
	return warnings, nil
}

// parseCPUSet parses a cpuset list ("0-2,4") into its CPU numbers.
func parseCPUSet(s string) (map[int]bool, error) {
	out := map[int]bool{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		var a, b int
		if _, err := fmt.Sscanf(lo, "%d", &a); err != nil || a < 0 || fmt.Sprint(a) != lo {
			return nil, fmt.Errorf("invalid format: %s", s)
		}
		b = a
		if isRange {
			if _, err := fmt.Sscanf(hi, "%d", &b); err != nil || b < a || fmt.Sprint(b) != hi {
				return nil, fmt.Errorf("invalid format: %s", s)
			}
		}
		for i := a; i <= b; i++ {
			out[i] = true
		}
	}
	return out, nil
}
