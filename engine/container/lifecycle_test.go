package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestRestartManagerPolicies(t *testing.T) {
	onFailure2 := containertypes.RestartPolicy{Name: containertypes.RestartPolicyOnFailure, MaximumRetryCount: 2}
	for _, tc := range []struct {
		policy  containertypes.RestartPolicy
		code    int
		manual  bool
		restart bool
	}{
		{containertypes.RestartPolicy{Name: containertypes.RestartPolicyDisabled}, 1, false, false},
		{containertypes.RestartPolicy{}, 1, false, false},
		{containertypes.RestartPolicy{Name: containertypes.RestartPolicyAlways}, 0, false, true},
		{containertypes.RestartPolicy{Name: containertypes.RestartPolicyAlways}, 0, true, false},
		{containertypes.RestartPolicy{Name: containertypes.RestartPolicyUnlessStopped}, 0, false, true},
		{containertypes.RestartPolicy{Name: containertypes.RestartPolicyUnlessStopped}, 3, true, false},
		{onFailure2, 0, false, false},
		{onFailure2, 1, false, true},
	} {
		var rm restartManager
		ok, ch := rm.ShouldRestart(tc.policy, tc.code, tc.manual, time.Second)
		if ok != tc.restart || (ch != nil) != tc.restart {
			t.Errorf("%+v exit %d manual %v: restart %v", tc.policy, tc.code, tc.manual, ok)
		}
		rm.Cancel()
	}
}

func TestRestartManagerCountsBackoffAndCancel(t *testing.T) {
	policy := containertypes.RestartPolicy{Name: containertypes.RestartPolicyOnFailure, MaximumRetryCount: 3}
	var rm restartManager
	var timeouts []time.Duration
	for i := 0; i < 3; i++ {
		ok, ch := rm.ShouldRestart(policy, 1, false, time.Second)
		if !ok {
			t.Fatalf("restart %d refused", i+1)
		}
		timeouts = append(timeouts, rm.timeout)
		if err := <-ch; err != nil { // the back-off passes
			t.Fatal(err)
		}
		rm.done()
	}
	if ok, _ := rm.ShouldRestart(policy, 1, false, time.Second); ok {
		t.Fatal("a fourth restart with on-failure:3")
	}
	if timeouts[0] != restartBackoffStart || timeouts[1] != 2*restartBackoffStart || timeouts[2] != 4*restartBackoffStart {
		t.Fatalf("back-off %v", timeouts)
	}
	// A run of 10 s or more starts the back-off over; a start through the
	// API resets the count.
	rm.Reset()
	always := containertypes.RestartPolicy{Name: containertypes.RestartPolicyAlways}
	for i := 0; i < 5; i++ {
		rm.ShouldRestart(always, 0, false, time.Second)
		rm.done()
	}
	rm.ShouldRestart(always, 0, false, restartResetAfter)
	if rm.timeout != restartBackoffStart {
		t.Fatalf("after a long run the back-off is %v", rm.timeout)
	}
	// Cancel ends a pending back-off with errRestartCanceled and refuses
	// later restarts until Reset.
	ok, ch := rm.ShouldRestart(always, 0, false, time.Second)
	if !ok {
		t.Fatal("refused")
	}
	rm.Cancel()
	if err := <-ch; err != errRestartCanceled {
		t.Fatalf("cancelled back-off: %v", err)
	}
	if ok, _ := rm.ShouldRestart(always, 0, false, time.Second); ok {
		t.Fatal("restart after Cancel")
	}
	rm.Reset()
	if ok, ch := rm.ShouldRestart(always, 0, false, time.Second); !ok {
		t.Fatal("restart refused after Reset")
	} else {
		rm.Cancel()
		<-ch
	}
}

func TestParsePS(t *testing.T) {
	out := "UID PID PPID C STIME TTY TIME CMD\n" +
		"root 10 1 0 10:00 ? 00:00:00 sh -c sleep 1000; true\n" +
		"root 11 10 0 10:00 ? 00:00:00 sleep 1000\n" +
		"root 12 1 0 10:00 ? 00:00:00 other\n"
	top, err := parsePS(out, []int{10, 11})
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Titles) != 8 || len(top.Processes) != 2 || top.Processes[0][7] != "sh -c sleep 1000; true" || top.Processes[1][1] != "11" {
		t.Fatalf("%+v", top)
	}
	if _, err := parsePS("USER COMMAND\nroot x\n", []int{1}); err == nil || !strings.Contains(err.Error(), "Couldn't find PID field") {
		t.Fatalf("no PID column: %v", err)
	}
	// Thread lines (PID "-") follow the process they belong to.
	top, err = parsePS("PID TID CMD\n10 - sh\n- 10 -\n- 13 -\n12 - other\n- 12 -\n", []int{10})
	if err != nil || len(top.Processes) != 3 {
		t.Fatalf("threads: %+v %v", top, err)
	}
}

func TestExecProcess(t *testing.T) {
	base := &specs.Process{
		Args: []string{"sleep", "1000"}, Env: []string{"PATH=/bin", "A=1", "HOME=/root"}, Cwd: "/work",
		User:         specs.User{UID: 0, GID: 0},
		Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN"}, Effective: []string{"CAP_CHOWN"}, Permitted: []string{"CAP_CHOWN"}},
	}
	c := &Container{root: t.TempDir(), HostConfig: &containertypes.HostConfig{}}
	if err := os.MkdirAll(filepath.Join(c.rootfsDir(), "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.rootfsDir(), "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\napp:x:7:8::/home/app:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := execProcess(c, base, containertypes.ExecOptions{Cmd: []string{"sh"}, Env: []string{"A=2", "B=3"}, Tty: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Args, " ") != "sh" || strings.Join(p.Env, " ") != "PATH=/bin A=2 HOME=/root B=3" || p.Cwd != "/work" || !p.Terminal ||
		strings.Join(p.Capabilities.Effective, ",") != "CAP_CHOWN" {
		t.Fatalf("%+v", p)
	}
	if strings.Join(base.Env, " ") != "PATH=/bin A=1 HOME=/root" || base.Terminal {
		t.Fatal("the container's process was changed")
	}
	p, err = execProcess(c, base, containertypes.ExecOptions{Cmd: []string{"id"}, User: "app", WorkingDir: "/", Privileged: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.User.UID != 7 || p.User.GID != 8 || p.Cwd != "/" || len(p.Capabilities.Effective) < 2 || !hasEnv(p.Env, "HOME") ||
		strings.Join(p.Env, " ") != "PATH=/bin A=1 HOME=/home/app" {
		t.Fatalf("%+v %+v %v", p.User, p.Capabilities, p.Env)
	}
	if _, err := execProcess(c, base, containertypes.ExecOptions{Cmd: []string{"id"}, User: "nosuch"}); err == nil {
		t.Fatal("unknown user accepted")
	}
}

func TestStopSignal(t *testing.T) {
	c := &Container{Config: &containertypes.Config{}}
	if s, err := c.stopSignal(""); err != nil || s != 15 {
		t.Fatalf("default: %v %v", s, err)
	}
	c.Config.StopSignal = "SIGUSR1"
	if s, err := c.stopSignal(""); err != nil || s != 10 {
		t.Fatalf("configured: %v %v", s, err)
	}
	if s, err := c.stopSignal("9"); err != nil || s != 9 {
		t.Fatalf("override: %v %v", s, err)
	}
	if _, err := c.stopSignal("NOPE"); err == nil {
		t.Fatal("bad signal accepted")
	}
}
