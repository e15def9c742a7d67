package libctr

import "testing"

// UseExecPlan turns the C exec plan on or off until the test ends.
func UseExecPlan(t testing.TB, on bool) {
	old := execPlanOff
	execPlanOff = !on
	t.Cleanup(func() { execPlanOff = old })
}
