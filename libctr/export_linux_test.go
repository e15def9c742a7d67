package libctr

import (
	"fmt"
	"os"
	"testing"

	"github.com/wharf-project/wharf/libctr/cgroups"
	"github.com/wharf-project/wharf/libctr/configs"
)

// UseExecPlan turns the C exec plan on or off until the test ends.
func UseExecPlan(t testing.TB, on bool) {
	old := execPlanOff
	execPlanOff = !on
	t.Cleanup(func() { execPlanOff = old })
}

// UseCgroupV2At makes f's containers use the cgroup2 hierarchy mounted at
// root (a hybrid host's /sys/fs/cgroup/unified) instead of the host's,
// with managers that refuse to move a process in (Apply with a pid): every
// process must be cloned into the cgroup.
func UseCgroupV2At(f *Factory, root string) {
	f.newCgroup = func(cg *configs.Cgroup) (cgroups.Manager, error) {
		m := cgroups.NewV2(root, cg.Path)
		return noMoves{Manager: m, dir: m.(cgroupDirer)}, nil
	}
}

type noMoves struct {
	cgroups.Manager
	dir cgroupDirer
}

func (m noMoves) Apply(pid int) error {
	if pid > 0 {
		return fmt.Errorf("process %d moved into the cgroup, not cloned into it", pid)
	}
	return m.Manager.Apply(0)
}

func (m noMoves) DirFile() (*os.File, error) { return m.dir.DirFile() }

// UseInitPlan turns the C init plan on or off until the test ends.
func UseInitPlan(t testing.TB, on bool) {
	old := initPlanOff
	initPlanOff = !on
	t.Cleanup(func() { initPlanOff = old })
}
