package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/wharf-project/wharf/engine/errdefs"
)

func TestMountErrors(t *testing.T) {
	for _, tc := range []struct {
		hc  containertypes.HostConfig
		msg string
	}{
		{containertypes.HostConfig{Binds: []string{"/a:rw"}}, "invalid volume specification: '/a:rw'"},
		{containertypes.HostConfig{Binds: []string{"a:b:c:d"}}, "invalid volume specification: 'a:b:c:d'"},
		{containertypes.HostConfig{Binds: []string{"/h:/c:bogus"}}, "invalid mode: bogus"},
		{containertypes.HostConfig{Binds: []string{"/h:rel"}}, `invalid volume specification: '/h:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`},
		{containertypes.HostConfig{Binds: []string{"/h:/"}}, `invalid volume specification: '/h:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`},
		{containertypes.HostConfig{Binds: []string{"/h:/x", "v:/x"}}, "Duplicate mount point: /x"},
		{containertypes.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/nonexistent-wharf", Target: "/x"}}}, `invalid mount config for type "bind": bind source path does not exist: /nonexistent-wharf`},
		{containertypes.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Target: "/x"}}}, `invalid mount config for type "bind": field Source must not be empty`},
		{containertypes.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Target: "/x", ReadOnly: true}}}, `invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes`},
		{containertypes.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeTmpfs, Source: "x", Target: "/x"}}}, `invalid mount config for type "tmpfs": field Source must not be specified`},
		{containertypes.HostConfig{Mounts: []mount.Mount{{Type: "weird", Target: "/x"}}}, `invalid mount config for type "weird": mount type unknown`},
		{containertypes.HostConfig{Binds: []string{"/h:/x"}, Tmpfs: map[string]string{"/x": ""}}, "Duplicate mount point: /x"},
	} {
		_, err := mountPoints(&tc.hc, nil)
		if err == nil || !errdefs.IsInvalidParameter(err) || err.Error() != tc.msg {
			t.Errorf("%+v: %v, want %q", tc.hc, err, tc.msg)
		}
	}
	mps, err := mountPoints(&containertypes.HostConfig{Binds: []string{"/h:/x:ro,rshared", "named:/n:nocopy", "/anon"}}, map[string]struct{}{"/anon": {}, "/img": {}})
	if err != nil {
		t.Fatal(err)
	}
	if m := mps["/x"]; m.Type != mount.TypeBind || m.RW || m.Propagation != mount.PropagationRShared || m.Mode != "ro,rshared" || m.Source != "/h" {
		t.Errorf("/x %+v", m)
	}
	if m := mps["/n"]; m.Type != mount.TypeVolume || m.Name != "named" || m.CopyData || !m.RW {
		t.Errorf("/n %+v", m)
	}
	if m := mps["/anon"]; m.Type != mount.TypeVolume || m.Name != "" || !m.CopyData {
		t.Errorf("/anon %+v", m)
	}
	if m := mps["/img"]; m == nil || m.Type != mount.TypeVolume || m.Name != "" {
		t.Errorf("/img %+v", m)
	}
}

func TestVerifyMessages(t *testing.T) {
	mem := func(r containertypes.Resources) *containertypes.HostConfig {
		return &containertypes.HostConfig{Resources: r}
	}
	host := hostLimits{cpus: 2, cpu: "0-1"}
	for _, tc := range []struct {
		cfg *containertypes.Config
		hc  *containertypes.HostConfig
		msg string
	}{
		{&containertypes.Config{WorkingDir: "rel"}, &containertypes.HostConfig{}, "the working directory 'rel' is invalid, it needs to be an absolute path"},
		{&containertypes.Config{StopSignal: "SIGBOGUS"}, &containertypes.HostConfig{}, "invalid signal: SIGBOGUS"},
		{&containertypes.Config{Env: []string{"=x"}}, &containertypes.HostConfig{}, "invalid environment variable: =x"},
		{&containertypes.Config{}, &containertypes.HostConfig{AutoRemove: true, RestartPolicy: containertypes.RestartPolicy{Name: "always"}}, "can't create 'AutoRemove' container with restart policy"},
		{&containertypes.Config{}, &containertypes.HostConfig{RestartPolicy: containertypes.RestartPolicy{Name: "sometimes"}}, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"},
		{&containertypes.Config{}, &containertypes.HostConfig{CapAdd: []string{"FLY"}}, `invalid CapAdd: unknown capability: "CAP_FLY"`},
		{&containertypes.Config{}, mem(containertypes.Resources{Memory: 1024}), "Minimum memory limit allowed is 6MB"},
		{&containertypes.Config{}, mem(containertypes.Resources{Memory: 64 << 20, MemorySwap: 32 << 20}), "Minimum memoryswap limit should be larger than memory limit, see usage"},
		{&containertypes.Config{}, mem(containertypes.Resources{NanoCPUs: 1e9, CPUPeriod: 100000}), "Conflicting options: Nano CPUs and CPU Period cannot both be set"},
		{&containertypes.Config{}, mem(containertypes.Resources{NanoCPUs: 3e9}), "range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"},
		{&containertypes.Config{}, mem(containertypes.Resources{CPUPeriod: 10}), "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"},
		{&containertypes.Config{}, mem(containertypes.Resources{CpusetCpus: "5"}), "Requested CPUs are not available - requested 5, available: 0-1"},
		{&containertypes.Config{}, &containertypes.HostConfig{OomScoreAdj: 2000}, "Invalid value 2000, range for oom score adj is [-1000, 1000]"},
		{&containertypes.Config{}, &containertypes.HostConfig{ShmSize: -1}, "SHM size can not be less than 0"},
		{&containertypes.Config{}, &containertypes.HostConfig{Tmpfs: map[string]string{"relative": ""}}, "invalid mount path: 'relative' mount path must be absolute"},
		{&containertypes.Config{}, &containertypes.HostConfig{Tmpfs: map[string]string{"/x/..": "size=1m"}}, "invalid specification: destination can't be '/'"},
		{&containertypes.Config{}, &containertypes.HostConfig{ExtraHosts: []string{"nohost"}}, `bad format for add-host: "nohost"`},
		{&containertypes.Config{}, &containertypes.HostConfig{SecurityOpt: []string{"bogus=1"}}, `invalid --security-opt 2: "bogus=1"`},
		{&containertypes.Config{}, &containertypes.HostConfig{LogConfig: containertypes.LogConfig{Type: "syslog"}}, "failed to create logging driver: logger: no log driver named 'syslog' is registered"},
	} {
		_, err := verify(tc.cfg, tc.hc, host)
		if err == nil || err.Error() != tc.msg {
			t.Errorf("%+v %+v: %v, want %q", tc.cfg, tc.hc, err, tc.msg)
		}
	}
	cfg := &containertypes.Config{WorkingDir: "/a/../b/"}
	w, err := verify(cfg, &containertypes.HostConfig{NetworkMode: "host", PortBindings: map[natPort][]natBinding{"80/tcp": {{HostPort: "8080"}}}}, host)
	if err != nil || cfg.WorkingDir != "/b" || len(w) != 1 || w[0] != "Published ports are discarded when using host network mode" {
		t.Errorf("warnings %v %v %q", w, err, cfg.WorkingDir)
	}
}

func TestResolveUser(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nalice:x:1000:100:Alice:/home/alice:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nusers:x:100:\naudio:x:29:alice,bob\nvideo:x:44:\n"), 0o644)
	for _, tc := range []struct {
		spec  string
		add   []string
		uid   uint32
		gid   uint32
		extra string
		home  string
		err   string
	}{
		{"", nil, 0, 0, "", "/root", ""},
		{"alice", nil, 1000, 100, "29", "/home/alice", ""},
		{"1000", []string{"video", "7"}, 1000, 100, "29,44,7", "/home/alice", ""},
		{"alice:video", nil, 1000, 44, "", "/home/alice", ""},
		{"4242", nil, 4242, 0, "", "/", ""},
		{"4242:4343", nil, 4242, 4343, "", "/", ""},
		{"bob", nil, 0, 0, "", "", "unable to find user bob: no matching entries in passwd file"},
		{"alice:nogroup", nil, 0, 0, "", "", "unable to find group nogroup: no matching entries in group file"},
		{"", []string{"nogroup"}, 0, 0, "", "", "unable to find group nogroup: no matching entries in group file"},
	} {
		u, err := resolveUser(root, tc.spec, tc.add)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		var extra []string
		for _, g := range u.Groups {
			extra = append(extra, itoa(g))
		}
		if err != nil || u.UID != tc.uid || u.GID != tc.gid || strings.Join(extra, ",") != tc.extra || u.Home != tc.home {
			t.Errorf("%q %v: %+v %v", tc.spec, tc.add, u, err)
		}
	}
	// /etc/passwd as a symlink out of the rootfs is not followed out.
	evil := t.TempDir()
	os.MkdirAll(filepath.Join(evil, "etc"), 0o755)
	os.Symlink("/etc/passwd", filepath.Join(evil, "etc/passwd"))
	if _, err := resolveUser(evil, "root", nil); err == nil {
		t.Error("a symlink to the host's /etc/passwd was followed")
	}
}

func TestResolvConf(t *testing.T) {
	host := []byte("# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n")
	if got := string(resolvConf(host, false, nil, nil, nil)); got != "nameserver 10.0.0.2\nsearch corp.example\noptions edns0\n" {
		t.Errorf("own netns: %q", got)
	}
	if got := string(resolvConf([]byte("nameserver 127.0.0.1\n"), false, nil, nil, nil)); got != "nameserver 8.8.8.8\nnameserver 8.8.4.4\n" {
		t.Errorf("only local: %q", got)
	}
	if got := string(resolvConf(host, true, nil, nil, nil)); !strings.Contains(got, "nameserver 127.0.0.53\n") {
		t.Errorf("host netns keeps local resolvers: %q", got)
	}
	if got := string(resolvConf(host, false, []string{"1.1.1.1"}, []string{"a.example"}, []string{"ndots:2"})); got != "nameserver 1.1.1.1\nsearch a.example\noptions ndots:2\n" {
		t.Errorf("overrides: %q", got)
	}
}

func TestStateStrings(t *testing.T) {
	s := NewState()
	if s.Status() != "created" || s.String() != "Created" {
		t.Fatalf("%s %q", s.Status(), s.String())
	}
	ch := s.Changed()
	s.SetRunning(42, timeNow().Add(-90*1e9))
	select {
	case <-ch:
	default:
		t.Fatal("Changed not closed by SetRunning")
	}
	if s.Status() != "running" || s.String() != "Up About a minute" || s.API().Pid != 42 {
		t.Fatalf("%s %q", s.Status(), s.String())
	}
	s.SetPaused()
	if s.Status() != "paused" || !strings.HasSuffix(s.String(), "(Paused)") {
		t.Fatalf("%s %q", s.Status(), s.String())
	}
	s.SetStopped(137, true, timeNow().Add(-3*3600*1e9))
	if st := s.API(); st.Status != "exited" || st.ExitCode != 137 || !st.OOMKilled || st.Running || st.Paused || st.Pid != 0 || s.String() != "Exited (137) 3 hours ago" {
		t.Fatalf("%+v %q", st, s.String())
	}
	if err := s.SetRemovalInProgress(); err != nil || s.Status() != "removing" {
		t.Fatal(err, s.Status())
	}
	if err := s.SetRemovalInProgress(); !errdefs.IsConflict(err) {
		t.Fatal("second removal allowed")
	}
	s.ResetRemovalInProgress()
	s.SetDead()
	if s.Status() != "dead" || s.String() != "Dead" {
		t.Fatal(s.Status())
	}
}
