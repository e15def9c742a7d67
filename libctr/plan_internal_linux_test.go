package libctr

import (
	"testing"

	"github.com/wharf-project/wharf/libctr/nsenter"
)

// The plans' wire constants are spelled twice, in Go (the writers) and in
// C (plan.h, the readers): they must be the same numbers.
func TestPlanConstantsMatchTheC(t *testing.T) {
	c := nsenter.WireConstants()
	if c == nil {
		t.Skip("built without cgo: no C side")
	}
	want := map[string]uint64{
		"PLAN_MAGIC":       planMagic,
		"PLAN_MAX":         planMax,
		"INIT_MAGIC":       initMagic,
		"PLAN_MAX_ITEMS":   planMaxItems,
		"PLAN_NNP":         planNNP,
		"PLAN_CAPS":        planCaps,
		"PLAN_SECCOMP_LOG": planSeccompLog,
		"PLAN_UMASK":       planUmask,
		"PLAN_OOM":         planOOM,
		"PLAN_CHROOT":      planChroot,
		"PLAN_TERMINAL":    planTerminal,
		"INIT_CGROUPNS":    initCgroupNS,
		"INIT_UTS":         initUTS,
		"INIT_DEV":         initDev,
		"INIT_NOPIVOT":     initNoPivot,
		"INIT_RO_ROOT":     initReadonlyRoot,
		"OP_MOUNT":         opMount,
		"OP_BIND":          opBind,
		"OP_REMOUNT":       opRemount,
		"OP_PROPAGATE":     opPropagate,
		"OP_SETATTR":       opSetattr,
		"LIBCTR_MAX_FDS":   prespawnMaxFds,
	}
	for name, goValue := range want {
		cValue, ok := c[name]
		if !ok {
			t.Errorf("%s: not among the C side's constants", name)
		} else if cValue != goValue {
			t.Errorf("%s: C %#x, Go %#x", name, cValue, goValue)
		}
	}
	if len(c) != len(want) {
		t.Errorf("the C side exports %d constants, the test checks %d: add the new ones here", len(c), len(want))
	}
}
