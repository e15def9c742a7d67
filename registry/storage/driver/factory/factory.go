// Package factory picks a storage driver by the name the configuration
// gives it. Drivers register themselves from init, so a binary offers the
// drivers whose packages it imports:
//
//	import _ "github.com/wharf-project/wharf/registry/storage/driver/filesystem"
//
//	d, err := factory.Create(ctx, "filesystem", map[string]any{
//		"rootdirectory": "/var/lib/registry",
//	})
package factory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

// Factory builds a driver from its configuration parameters. It validates
// them and names the offending key in its error.
type Factory func(ctx context.Context, params map[string]any) (driver.StorageDriver, error)

var (
	mu        sync.RWMutex
	factories = map[string]Factory{}
)

// Register makes a driver available under name. It panics when name is
// empty, f is nil or name is taken: all three are programming errors found
// at start.
func Register(name string, f Factory) {
	if name == "" || f == nil {
		panic("factory: Register needs a name and a factory")
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[name]; dup {
		panic(fmt.Sprintf("factory: storage driver %q registered twice", name))
	}
	factories[name] = f
}

// UnknownDriverError is returned by Create for a name nobody registered.
type UnknownDriverError struct {
	Name  string
	Known []string
}

func (e UnknownDriverError) Error() string {
	return fmt.Sprintf("unknown storage driver %q (registered: %s)", e.Name, strings.Join(e.Known, ", "))
}

// Create builds the driver registered as name with params.
func Create(ctx context.Context, name string, params map[string]any) (driver.StorageDriver, error) {
	mu.RLock()
	f, ok := factories[name]
	mu.RUnlock()
	if !ok {
		return nil, UnknownDriverError{Name: name, Known: Names()}
	}
	d, err := f(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("storage driver %s: %w", name, err)
	}
	return d, nil
}

// Names lists the registered drivers, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(factories))
	for n := range factories {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
