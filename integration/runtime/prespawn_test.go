package runtime

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/libctr/cgroups"
)

// TestRunPrespawnedAndNot: a container with the usual namespaces gets the
// init that `run` and `create` prespawn while they start (its command line
// is still theirs until it execs); one without a network namespace of its
// own lets it go and gets an exec'd init. Either way the program is pid 1,
// gets what --preserve-fds passes, exits with its own code, and starts with
// no signal ignored or blocked, whatever the caller ignored.
func TestRunPrespawnedAndNot(t *testing.T) {
	hostNet, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(t.TempDir(), "extra")
	if err := os.WriteFile(extra, []byte("passed on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "echo $$; cat <&3; readlink /proc/self/ns/net; grep -E '^Sig(Ign|Blk)' /proc/self/status; exit 7"
	for _, tc := range []struct {
		name   string
		mutate func(*specs.Spec)
		ownNet bool // a network namespace of its own: what a prespawned init has
	}{
		{"usual namespaces", nil, true},
		// A plan too large to be written before the init exists (more
		// than libctr's earlyPlanMax): it goes once the init runs.
		{"large plan", func(s *specs.Spec) {
			s.Process.Env = append(s.Process.Env, "BIG="+strings.Repeat("x", 100<<10))
		}, true},
		{"host network", func(s *specs.Spec) {
			var keep []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type != specs.NetworkNamespace {
					keep = append(keep, ns)
				}
			}
			s.Linux.Namespaces = keep
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			bundle, id := r.bundle(tc.mutate, "sh", "-c", script)
			f, err := os.Open(extra)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var out strings.Builder
			// The caller ignores signals, as a systemd service (SIGPIPE),
			// nohup (SIGHUP) or a background job (SIGINT) does.
			cmd := exec.Command("/bin/sh", "-c", `trap '' PIPE USR1 HUP INT; exec "$@"`, "sh",
				r.bin, "runtime", "--root", r.root, "run", "--preserve-fds", "1", "--bundle", bundle, id)
			cmd.ExtraFiles = []*os.File{f}
			cmd.Stdout = &out
			err = cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
				t.Fatalf("run: %v, want exit 7; output %q", err, out.String())
			}
			want := "1\npassed on\n%s\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
			lines := strings.Split(out.String(), "\n")
			if len(lines) < 3 {
				t.Fatalf("output %q", out.String())
			}
			if own := lines[2] != hostNet; own != tc.ownNet {
				t.Errorf("net namespace %s (host %s), want one of its own: %v", lines[2], hostNet, tc.ownNet)
			}
			if got := strings.Replace(out.String(), lines[2], "%s", 1); got != want {
				t.Errorf("output %q, want %q", out.String(), want)
			}

			// Which init it got: a created container's init is still
			// the command that made it, or the re-executed "wharf init".
			sleeper, id2 := r.bundle(tc.mutate, "sleep", "1000")
			r.ok("create", "--bundle", sleeper, id2)
			pid := int(r.state(id2)["pid"].(float64))
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			if err != nil {
				t.Fatal(err)
			}
			argv := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
			// (On cgroup v2 nothing is prespawned: the init is cloned
			// into its cgroup.)
			wantPre := tc.ownNet && !cgroups.IsV2()
			if got := argv[len(argv)-1] == id2; got != wantPre {
				t.Errorf("the created init's command line is %q: prespawned %v, want %v", argv, got, wantPre)
			}
		})
	}
}
