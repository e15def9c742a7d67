package libctr_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/configs"
)

// execPaths runs f once with the C exec plan and once with the Go init,
// which must be indistinguishable to the exec'd program and its caller.
func execPaths(t *testing.T, f func(t *testing.T) string) {
	t.Helper()
	bothWays(t, "exec-plan", libctr.UseExecPlan, f)
}

// bothWays runs f as a subtest named name with use(t, true), then as
// "go-init" with use(t, false), and fails when the two results differ.
func bothWays(t *testing.T, name string, use func(testing.TB, bool), f func(t *testing.T) string) {
	t.Helper()
	got := map[bool]string{}
	for _, on := range []bool{true, false} {
		sub := "go-init"
		if on {
			sub = name
		}
		t.Run(sub, func(t *testing.T) {
			use(t, on)
			got[on] = f(t)
		})
	}
	if got[true] != got[false] {
		t.Errorf("%s and Go init differ:\n%s:\n%s\ngo init:\n%s", name, name, got[true], got[false])
	}
}

// TestExecPlanConfinesLikeTheGoInit: an exec'd process gets the same user,
// groups, capabilities (ambient too), no_new_privs, seccomp filter, umask,
// cwd, HOME from the container's /etc/passwd, oom_score_adj, rlimits,
// descriptors and exit code whichever path started it.
func TestExecPlanConfinesLikeTheGoInit(t *testing.T) {
	c := testContainer(t, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{
				Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno,
			}},
		}
	}, "sleep", "1000")
	if err := os.WriteFile(filepath.Join(c.rootfs, "etc", "passwd"),
		[]byte("root:x:0:0:root:/root:/bin/sh\nu:x:1000:1001::/home/u:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.start(t)
	umask, oom := uint32(0o027), 500
	netBind := []string{"CAP_NET_BIND_SERVICE"}
	execPaths(t, func(t *testing.T) string {
		var out, errb strings.Builder
		p := &libctr.Process{Process: configs.Process{
			Args: []string{"sh", "-c", `grep -E '^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status
umask; pwd; echo "$HOME"; cat /proc/self/oom_score_adj; ulimit -n; ulimit -Hn; ls /proc/self/fd | tr '\n' ' '; echo
mkdir /tmp/x 2>&1; exit 5`},
			Env: []string{"PATH=/bin"}, Cwd: "/tmp", UID: 1000, GID: 1001, AdditionalGids: []uint32{10, 20},
			Umask: &umask, OomScoreAdj: &oom, NoNewPrivileges: true,
			Rlimits: []configs.Rlimit{{Type: 7, Soft: 1024, Hard: 2048}}, // RLIMIT_NOFILE
			Capabilities: &configs.Capabilities{
				Bounding: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}, Effective: netBind,
				Permitted: netBind, Inheritable: netBind, Ambient: netBind,
			},
		}, Stdout: &out, Stderr: &errb}
		if code := enter(t, c, p); code != 5 {
			t.Errorf("exit %d, want 5 (stderr %q)", code, errb.String())
		}
		got := out.String()
		for _, want := range []string{
			"Uid:\t1000\t1000\t1000\t1000\n", "Gid:\t1001\t1001\t1001\t1001\n", "Groups:\t10 20 \n",
			"CapAmb:\t0000000000000400\n", "CapBnd:\t0000000000000421\n", "NoNewPrivs:\t1\n", "Seccomp:\t2\n",
			"\n0027\n/tmp\n/home/u\n500\n1024\n2048\n0 1 2 3 \n", "Operation not permitted",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("output lacks %q:\n%s", want, got)
			}
		}
		return got
	})
}

// TestExecPlanRefusesLikeTheGoInit: a program that is missing, a directory
// or not executable is refused by Enter with the same message either way
// (the engine tells 127 from 126 by it), and nothing runs.
func TestExecPlanRefusesLikeTheGoInit(t *testing.T) {
	c := testContainer(t, nil, "sleep", "1000")
	if err := os.WriteFile(filepath.Join(c.rootfs, "etc", "motd"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.start(t)
	for _, tc := range []struct{ arg, want string }{
		{"nosuch", `exec: "nosuch": executable file not found in $PATH`},
		{"/nope", `exec: "/nope": stat /nope: no such file or directory`},
		{"/bin", `exec: "/bin": is a directory`},
		{"/etc/motd", `exec: "/etc/motd": permission denied`},
	} {
		execPaths(t, func(t *testing.T) string {
			p := &libctr.Process{Process: configs.Process{Args: []string{tc.arg}, Env: []string{"PATH=/bin"}, Cwd: "/"}}
			err := c.Enter(p)
			if err == nil {
				_, _ = p.Wait()
				t.Fatalf("%s: exec succeeded", tc.arg)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want %q", tc.arg, err, tc.want)
			}
			return err.Error()
		})
	}
	if pids, err := c.Processes(); err != nil || len(pids) != 1 {
		t.Errorf("container holds %v (%v), want only its init", pids, err)
	}
}

// TestExecReportsLateFailures: what fails after the program was found
// (here the working directory) still reaches Enter's caller, because both
// inits keep the pipe until execve, and nothing is left running.
func TestExecReportsLateFailures(t *testing.T) {
	c := testContainer(t, nil, "sleep", "1000")
	c.start(t)
	execPaths(t, func(t *testing.T) string {
		p := &libctr.Process{Process: configs.Process{Args: []string{"true"}, Env: []string{"PATH=/bin"}, Cwd: "/nonexistent"}}
		err := c.Enter(p)
		if err == nil {
			_, _ = p.Wait()
			t.Fatal("exec with a missing cwd succeeded")
		}
		if want := "chdir /nonexistent: no such file or directory"; !strings.Contains(err.Error(), want) {
			t.Errorf("%v, want %q", err, want)
		}
		if pids, err := c.Processes(); err != nil || len(pids) != 1 {
			t.Errorf("container holds %v (%v), want only its init", pids, err)
		}
		return err.Error()
	})
}

// BenchmarkEnter: one exec of `true` into a running container and its
// wait, with the exec plan and with the Go init.
func BenchmarkEnter(b *testing.B) {
	for _, plan := range []bool{true, false} {
		name := "go-init"
		if plan {
			name = "exec-plan"
		}
		b.Run(name, func(b *testing.B) {
			c := testContainer(b, nil, "sleep", "1000")
			c.start(b)
			libctr.UseExecPlan(b, plan)
			for b.Loop() {
				p := &libctr.Process{Process: configs.Process{Args: []string{"true"}, Env: []string{"PATH=/bin"}, Cwd: "/"}}
				enter(b, c, p)
			}
		})
	}
}

// A profile that does not allow close_range (runtime-tools' allowlist
// does not, nor does one written before Linux 5.9) still lets the init and
// an exec start their program: the descriptors are marked close-on-exec
// before any filter is loaded. With and without no_new_privs, which move
// the filter's load around the privilege drop.
func TestSeccompWithoutCloseRange(t *testing.T) {
	for _, nnp := range []bool{false, true} {
		t.Run(fmt.Sprintf("no_new_privs=%v", nnp), func(t *testing.T) {
			c := testContainer(t, func(s *specs.Spec) {
				s.Process.NoNewPrivileges = nnp
				sc, err := mobyseccomp.GetDefaultProfile(s)
				if err != nil {
					t.Fatal(err)
				}
				for i := range sc.Syscalls {
					sc.Syscalls[i].Names = slices.DeleteFunc(sc.Syscalls[i].Names, func(n string) bool { return n == "close_range" })
				}
				s.Linux.Seccomp = sc
			}, "sleep", "1000")
			c.start(t)
			execPaths(t, func(t *testing.T) string {
				var out strings.Builder
				p := &libctr.Process{Process: configs.Process{Args: []string{"echo", "in"}, Env: []string{"PATH=/bin"}, Cwd: "/",
					NoNewPrivileges: nnp}, Stdout: &out}
				if code := enter(t, c, p); code != 0 || out.String() != "in\n" {
					t.Fatalf("exec: exit %d %q", code, out.String())
				}
				return out.String()
			})
		})
	}
}
