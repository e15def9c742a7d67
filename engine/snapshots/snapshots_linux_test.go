package snapshots_test

import (
	"testing"

	"github.com/wharf-project/wharf/engine/snapshots"
	"github.com/wharf-project/wharf/engine/snapshots/testsuite"
)

func TestOverlay(t *testing.T) {
	testsuite.Run(t, snapshots.NewOverlay)
}

func TestNative(t *testing.T) {
	testsuite.Run(t, snapshots.NewNative)
}
