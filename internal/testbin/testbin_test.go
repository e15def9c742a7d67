package testbin

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// TestWharfBuiltOnce: the binary is built on the first call, the same path
// comes back after, it runs, and $WHARF_BINARY overrides it.
func TestWharfBuiltOnce(t *testing.T) {
	t.Setenv("WHARF_BINARY", "")
	p, err := Wharf()
	if err != nil {
		t.Fatal(err)
	}
	if p2, err := Wharf(); err != nil || p2 != p {
		t.Fatalf("second call: %q %v, want %q", p2, err, p)
	}
	out, err := exec.Command(p, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "registry") {
		t.Fatalf("%s --help: %v\n%s", p, err, out)
	}
	t.Setenv("WHARF_BINARY", "/opt/prebuilt/wharf")
	if p, err := Wharf(); err != nil || p != "/opt/prebuilt/wharf" {
		t.Fatalf("with WHARF_BINARY: %q %v", p, err)
	}
}
