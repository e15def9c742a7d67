package runtime

import (
	"debug/elf"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStaticBuild: the release build (build/static.sh: musl, static, which
// the benchmarks use) has no dynamic loader and runs containers as the
// plain build does. Needs musl-gcc (Debian's musl-tools, in .ci/deps).
func TestStaticBuild(t *testing.T) {
	if _, err := exec.LookPath("musl-gcc"); err != nil {
		t.Skip("musl-gcc missing (apt-get install musl-tools): ", err)
	}
	bin := filepath.Join(t.TempDir(), "wharf")
	if out, err := exec.Command(filepath.Join("..", "..", "build", "static.sh"), bin).CombinedOutput(); err != nil {
		t.Fatalf("build/static.sh: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s asks for a dynamic loader", bin)
		}
	}
	f.Close()
	r := newRT(t)
	r.bin = bin
	checkLifecycle(r)
}
