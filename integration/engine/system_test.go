package engine

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/docker/docker/api/types"
	"golang.org/x/sys/unix"
)

// hostCgroupVersion is what /info must report for this host.
func hostCgroupVersion() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "2"
	}
	return "1"
}

func kernelRelease() string {
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	return unix.ByteSliceToString(uts.Release[:])
}

func TestDockerCLIVersionInfo(t *testing.T) {
	d := startDaemon(t)
	out := d.docker(t, "version", "--format", "{{.Client.APIVersion}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}")
	if strings.TrimSpace(out) != "1.50 1.51 1.24 linux" {
		t.Fatalf("docker version: %q", out)
	}
	out = d.docker(t, "info", "--format", "{{json .}}")
	var info struct {
		DockerRootDir, CgroupVersion, CgroupDriver, KernelVersion, OSType, OperatingSystem, ServerVersion, ID string
		NCPU                                                                                                  int
		MemTotal                                                                                              int64
		RegistryConfig                                                                                        struct{ InsecureRegistryCIDRs []string }
		Swarm                                                                                                 struct{ LocalNodeState string }
		ServerErrors                                                                                          []string
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("docker info json: %v\n%s", err, out)
	}
	var si unix.Sysinfo_t
	_ = unix.Sysinfo(&si)
	if len(info.ServerErrors) > 0 || info.DockerRootDir != d.DataRoot || info.CgroupVersion != hostCgroupVersion() ||
		info.CgroupDriver != "cgroupfs" || info.KernelVersion != kernelRelease() || info.OSType != "linux" ||
		info.NCPU != runtime.NumCPU() || info.MemTotal != int64(si.Totalram)*int64(si.Unit) ||
		info.OperatingSystem == "" || info.ID == "" || info.Swarm.LocalNodeState != "inactive" ||
		len(info.RegistryConfig.InsecureRegistryCIDRs) != 1 || info.RegistryConfig.InsecureRegistryCIDRs[0] != "127.0.0.0/8" {
		t.Fatalf("docker info: %+v", info)
	}
	// The plain text output works too (the CLI formats every field).
	if out := d.docker(t, "info"); !strings.Contains(out, "Docker Root Dir: "+d.DataRoot) || !strings.Contains(out, "Cgroup Version: "+hostCgroupVersion()) {
		t.Fatalf("docker info:\n%s", out)
	}
	out = d.docker(t, "system", "df", "--format", "{{.Type}} {{.TotalCount}}")
	if want := "Images 0\nContainers 0\nLocal Volumes 0\nBuild Cache 0\n"; out != want {
		t.Fatalf("docker system df: %q, want %q", out, want)
	}
}

func TestDebianCLIVersionInfo(t *testing.T) {
	requireDebianDocker(t)
	d := startDaemon(t)
	out := d.debianDocker(t, "version", "--format", "{{.Client.APIVersion}} {{.Server.APIVersion}}")
	if strings.TrimSpace(out) != "1.41 1.51" {
		t.Fatalf("debian docker version: %q", out)
	}
	out = d.debianDocker(t, "info", "--format", "{{.DockerRootDir}} {{.CgroupVersion}} {{.KernelVersion}}")
	if want := d.DataRoot + " " + hostCgroupVersion() + " " + kernelRelease(); strings.TrimSpace(out) != want {
		t.Fatalf("debian docker info: %q, want %q", out, want)
	}
	if out := d.debianDocker(t, "system", "df"); !strings.Contains(out, "Images") {
		t.Fatalf("debian docker system df:\n%s", out)
	}
}

func TestSDKClient(t *testing.T) {
	d := startDaemon(t)
	cli := d.client(t)
	ctx := context.Background()
	ping, err := cli.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ping.APIVersion != "1.51" || ping.OSType != "linux" || ping.BuilderVersion != types.BuilderV1 || ping.Experimental {
		t.Fatalf("ping %+v", ping)
	}
	v, err := cli.ServerVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.APIVersion != "1.51" || v.MinAPIVersion != "1.24" || v.KernelVersion != kernelRelease() {
		t.Fatalf("version %+v", v)
	}
	if cli.ClientVersion() != "1.51" {
		t.Fatalf("negotiated %s, want 1.51", cli.ClientVersion())
	}
	info, err := cli.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.DockerRootDir != d.DataRoot || info.NCPU != runtime.NumCPU() || info.CgroupVersion != hostCgroupVersion() {
		t.Fatalf("info %+v", info)
	}
	du, err := cli.DiskUsage(ctx, types.DiskUsageOptions{Types: []types.DiskUsageObject{types.ImageObject}})
	if err != nil {
		t.Fatal(err)
	}
	if du.Images == nil || len(du.Images) != 0 || du.Containers != nil {
		t.Fatalf("df %+v", du)
	}
}

func TestPingHeaders(t *testing.T) {
	d := startDaemon(t)
	for _, method := range []string{"GET", "HEAD"} {
		for _, path := range []string{"/_ping", "/v1.24/_ping", "/v1.51/_ping"} {
			r := d.do(t, method, path, nil, nil)
			want := map[string]string{
				"Api-Version": "1.51", "Ostype": "linux", "Docker-Experimental": "false", "Builder-Version": "1",
				"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache",
			}
			for k, v := range want {
				if r.Header.Get(k) != v {
					t.Errorf("%s %s: %s = %q, want %q", method, path, k, r.Header.Get(k), v)
				}
			}
			if !strings.HasPrefix(r.Header.Get("Server"), "Docker/") || r.Status != 200 {
				t.Errorf("%s %s: %d Server %q", method, path, r.Status, r.Header.Get("Server"))
			}
			wantBody := "OK"
			if method == "HEAD" {
				wantBody = ""
			}
			if r.Body != wantBody {
				t.Errorf("%s %s: body %q", method, path, r.Body)
			}
		}
	}
}

func TestDaemonFilesAndShutdown(t *testing.T) {
	d := startDaemon(t)
	b, err := os.ReadFile(d.Pidfile)
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(d.cmd.Process.Pid) {
		t.Fatalf("pidfile %q %v", b, err)
	}
	st, err := os.Stat(d.Sock)
	if err != nil || st.Mode().Type() != os.ModeSocket || st.Mode().Perm() != 0o660 {
		t.Fatalf("socket %v %v", st, err)
	}
	if _, err := os.Stat(d.DataRoot + "/engine-id"); err != nil {
		t.Fatal(err)
	}
	// A second daemon on the same pidfile (and socket) is refused, and
	// leaves the first one's socket alone.
	out, err := runWharf(t, "daemon", "-H", d.Host, "--data-root", d.Dir+"/d2",
		"--exec-root", d.Dir+"/e2", "--pidfile", d.Pidfile, "--config-file", d.Dir+"/daemon.json")
	if err == nil || !strings.Contains(out, "pid file found, ensure wharf is not running or delete "+d.Pidfile) {
		t.Fatalf("second daemon: %v\n%s", err, out)
	}
	if r := d.do(t, "GET", "/_ping", nil, nil); r.Status != 200 {
		t.Fatalf("first daemon after a second one was refused: %d", r.Status)
	}
	if err := d.stop(); err != nil {
		t.Fatalf("SIGTERM exit: %v", err)
	}
	for _, p := range []string{d.Pidfile, d.Sock} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left after shutdown: %v", p, err)
		}
	}
}
