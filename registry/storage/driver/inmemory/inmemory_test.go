package inmemory

import (
	"context"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/registry/storage/driver"
	"github.com/wharf-project/wharf/registry/storage/driver/factory"
	"github.com/wharf-project/wharf/registry/storage/driver/testsuites"
)

func newDriver(testing.TB) driver.StorageDriver { return New() }

func TestSuite(t *testing.T)      { testsuites.Run(t, newDriver) }
func BenchmarkSuite(b *testing.B) { testsuites.Benchmark(b, newDriver) }

func TestFactory(t *testing.T) {
	d, err := factory.Create(context.Background(), DriverName, nil)
	if err != nil || d.Name() != DriverName {
		t.Fatalf("Create(inmemory) = %v, %v", d, err)
	}
	if _, err := factory.Create(context.Background(), DriverName, map[string]any{"rootdirectory": "/x"}); err == nil ||
		!strings.Contains(err.Error(), "rootdirectory") {
		t.Fatalf("a parameter the driver does not take should be named in an error, got %v", err)
	}
}
