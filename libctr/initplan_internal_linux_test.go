package libctr

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/libctr/configs"
)

// TestPlanTooBigForC: a config with more items than initplan.c takes, or a
// process larger than it reads, is not encoded as a plan (Start and Enter
// then take the Go init) instead of failing in C.
func TestPlanTooBigForC(t *testing.T) {
	cfg := &configs.Config{Rootfs: "/", Namespaces: configs.Namespaces{{Type: configs.NEWNS}}, Sysctl: map[string]string{}}
	proc := &configs.Process{Args: []string{"true"}, Cwd: "/"}
	if _, err := encodeInitPlan(cfg, proc, "t", nil, nil, 3); err != nil {
		t.Fatalf("a small plan: %v", err)
	}
	for i := range planMaxItems + 1 {
		cfg.Sysctl[fmt.Sprintf("net.ipv4.x%d", i)] = "1"
	}
	if _, err := encodeInitPlan(cfg, proc, "t", nil, nil, 3); !errors.Is(err, errPlanTooBig) {
		t.Errorf("%d sysctls: %v, want errPlanTooBig", len(cfg.Sysctl), err)
	}
	big := &configs.Process{Args: []string{"true"}, Cwd: "/", Env: []string{"X=" + strings.Repeat("x", planMax)}}
	if _, err := encodeExecPlan(&configs.Config{}, big, "t", nil, 3); !errors.Is(err, errPlanTooBig) {
		t.Errorf("a %d-byte environment: %v, want errPlanTooBig", len(big.Env[0]), err)
	}
}

// TestPlanRefusesNUL: a string C cannot carry is refused by either plan
// as invalid input, whichever field holds it.
func TestPlanRefusesNUL(t *testing.T) {
	cfg := &configs.Config{Rootfs: "/", Namespaces: configs.Namespaces{{Type: configs.NEWNS}}}
	proc := &configs.Process{Args: []string{"true"}, Cwd: "/", Env: []string{"A=b\x00c"}}
	if _, err := encodeExecPlan(cfg, proc, "t", nil, 3); !errors.Is(err, configs.ErrInvalid) {
		t.Errorf("exec plan with a NUL in the environment: %v", err)
	}
	proc.Env = nil
	cfg.MaskPaths = []string{"/proc/x\x00"}
	if _, err := encodeInitPlan(cfg, proc, "t", nil, nil, 3); !errors.Is(err, configs.ErrInvalid) {
		t.Errorf("init plan with a NUL in a masked path: %v", err)
	}
}
