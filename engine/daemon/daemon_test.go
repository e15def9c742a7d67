package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/docker/docker/api/types"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/engine/events"
)

func newDaemon(t *testing.T) (*Daemon, Config) {
	t.Helper()
	dir := t.TempDir()
	cfg := Config{DataRoot: filepath.Join(dir, "data"), ExecRoot: filepath.Join(dir, "exec"), Pidfile: filepath.Join(dir, "pid")}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Shutdown(context.Background()) })
	return d, cfg
}

func TestLifecycle(t *testing.T) {
	d, cfg := newDaemon(t)
	b, err := os.ReadFile(cfg.Pidfile)
	if err != nil || string(b) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("pidfile %q %v", b, err)
	}
	var order []int
	d.OnShutdown(func(context.Context) error { order = append(order, 1); return nil })
	d.OnShutdown(func(context.Context) error { order = append(order, 2); return nil })
	_, live, _ := d.SubscribeToEvents(time.Time{}, time.Time{}, nil)
	if err := d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 || order[0] != 2 || order[1] != 1 {
		t.Fatalf("hooks ran %v, want [2 1]", order)
	}
	if _, ok := <-live; ok {
		t.Fatal("event stream open after shutdown")
	}
	if _, err := os.Stat(cfg.Pidfile); !os.IsNotExist(err) {
		t.Fatalf("pidfile left: %v", err)
	}
	// The engine ID survives a restart.
	cfg.Pidfile = ""
	d2, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d2.ID() != d.ID() || d.ID() == "" {
		t.Fatalf("engine id changed: %q -> %q", d.ID(), d2.ID())
	}
}

func TestPidfileOfLiveProcessRefused(t *testing.T) {
	dir := t.TempDir()
	pid := filepath.Join(dir, "pid")
	// pid 1 is always alive.
	if err := os.WriteFile(pid, []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{DataRoot: filepath.Join(dir, "d"), ExecRoot: filepath.Join(dir, "e"), Pidfile: pid}
	if _, err := New(cfg, nil); err == nil {
		t.Fatal("started over a live pidfile")
	}
	// A stale one (no such process) is taken over.
	if err := os.WriteFile(pid, []byte("999999999"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = d.Shutdown(context.Background())
}

func TestInfoVersionDiskUsage(t *testing.T) {
	d, cfg := newDaemon(t)
	ctx := context.Background()
	info, err := d.SystemInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	wantCg := "1"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		wantCg = "2"
	}
	if info.DockerRootDir != cfg.DataRoot || info.KernelVersion != unix.ByteSliceToString(uts.Release[:]) ||
		info.CgroupVersion != wantCg || info.CgroupDriver != "cgroupfs" || info.NCPU < 1 || info.MemTotal <= 0 ||
		info.ID != d.ID() || info.OSType != "linux" || info.OperatingSystem == "" {
		t.Fatalf("info: %+v", info)
	}
	if len(info.RegistryConfig.InsecureRegistryCIDRs) != 1 || info.RegistryConfig.InsecureRegistryCIDRs[0].String() != "127.0.0.0/8" {
		t.Fatalf("registry config: %+v", info.RegistryConfig)
	}
	v, _ := d.SystemVersion(ctx)
	if v.APIVersion != "1.51" || v.MinAPIVersion != "1.24" || len(v.Components) != 1 {
		t.Fatalf("version %+v", v)
	}
	du, err := d.SystemDiskUsage(ctx, types.DiskUsageOptions{Types: []types.DiskUsageObject{types.ImageObject}})
	if err != nil || du.Images == nil || du.Containers != nil {
		t.Fatalf("df %+v %v", du, err)
	}
}

func TestReloadPublishesEvent(t *testing.T) {
	d, cfg := newDaemon(t)
	_, live, cancel := d.SubscribeToEvents(time.Time{}, time.Time{}, nil)
	defer cancel()
	next := cfg
	next.Labels = []string{"a=b"}
	next.InsecureRegistries = []string{"myreg:5000"}
	next.DataRoot = "/elsewhere" // not reloadable
	if err := d.Reload(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	m := <-live
	if m.Type != events.DaemonEventType || m.Action != events.ActionReload || m.Actor.ID != d.ID() ||
		m.Actor.Attributes["labels"] != `["a=b"]` {
		t.Fatalf("event %+v", m)
	}
	if c := d.Config(); c.DataRoot != cfg.DataRoot || !d.InsecureRegistry("myreg:5000") {
		t.Fatalf("config after reload %+v", c)
	}
	bad := cfg
	bad.LogLevel = "loud"
	if err := d.Reload(context.Background(), bad); err == nil {
		t.Fatal("invalid reload accepted")
	}
}
