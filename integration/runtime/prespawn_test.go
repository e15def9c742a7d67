package runtime

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestRunPrespawnedAndNot: `run` of a container with the usual namespaces
// (its init prespawned while the command starts) hands the program what
// --preserve-fds passes, as pid 1 of its own namespaces; one without a
// network namespace of its own (the prespawned init let go) shares the
// host's. Both exit with the program's code.
func TestRunPrespawnedAndNot(t *testing.T) {
	hostNet, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(t.TempDir(), "extra")
	if err := os.WriteFile(extra, []byte("passed on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "echo $$; cat <&3; readlink /proc/self/ns/net; exit 7"
	for _, tc := range []struct {
		name      string
		mutate    func(*specs.Spec)
		wantNetNS bool // a network namespace of its own
	}{
		{"usual namespaces", nil, true},
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
			cmd := exec.Command(r.bin, "runtime", "--root", r.root, "run", "--preserve-fds", "1", "--bundle", bundle, id)
			cmd.ExtraFiles = []*os.File{f}
			cmd.Stdout = &out
			err = cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
				t.Fatalf("run: %v, want exit 7; output %q", err, out.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 3 || lines[0] != "1" || lines[1] != "passed on" {
				t.Fatalf("output %q, want pid 1, the extra file, the net namespace", out.String())
			}
			if own := lines[2] != hostNet; own != tc.wantNetNS {
				t.Errorf("net namespace %s (host %s), want one of its own: %v", lines[2], hostNet, tc.wantNetNS)
			}
		})
	}
}
