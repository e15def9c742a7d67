package factory

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

// fakeDriver only needs a name: the factory never calls anything else.
type fakeDriver struct{ driver.StorageDriver }

func (fakeDriver) Name() string { return "fake" }

// register registers for the length of one test (go test -count=N reruns
// tests in one process).
func register(t *testing.T, name string, f Factory) {
	Register(name, f)
	t.Cleanup(func() {
		mu.Lock()
		delete(factories, name)
		mu.Unlock()
	})
}

func TestCreate(t *testing.T) {
	var got map[string]any
	register(t, "factory-test", func(_ context.Context, p map[string]any) (driver.StorageDriver, error) {
		if _, bad := p["bad"]; bad {
			return nil, errors.New("bad parameter")
		}
		got = p
		return fakeDriver{}, nil
	})
	d, err := Create(context.Background(), "factory-test", map[string]any{"k": "v"})
	if err != nil || d.Name() != "fake" || got["k"] != "v" {
		t.Fatalf("Create = %v, %v (params %v)", d, err, got)
	}
	if _, err := Create(context.Background(), "factory-test", map[string]any{"bad": 1}); err == nil ||
		!strings.Contains(err.Error(), "factory-test") || !strings.Contains(err.Error(), "bad parameter") {
		t.Fatalf("factory error not wrapped with the driver name: %v", err)
	}

	_, err = Create(context.Background(), "no-such-driver", nil)
	var unknown UnknownDriverError
	if !errors.As(err, &unknown) || unknown.Name != "no-such-driver" {
		t.Fatalf("unknown driver: got %v", err)
	}
	if !strings.Contains(err.Error(), "factory-test") {
		t.Fatalf("error should list the registered drivers: %v", err)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	f := func(context.Context, map[string]any) (driver.StorageDriver, error) { return fakeDriver{}, nil }
	register(t, "factory-dup", f)
	defer func() {
		if recover() == nil {
			t.Fatal("second Register of the same name did not panic")
		}
	}()
	Register("factory-dup", f)
}
