package storage

import "sync"

// boundedMap is a concurrency-safe map that forgets an arbitrary entry when it
// is full. It backs the caches of immutable facts (blob sizes, parsed
// manifests), where a miss costs only a read from the driver.
type boundedMap[K comparable, V any] struct {
	mu  sync.RWMutex
	m   map[K]V
	max int
}

func newBoundedMap[K comparable, V any](max int) *boundedMap[K, V] {
	return &boundedMap[K, V]{m: make(map[K]V), max: max}
}

func (b *boundedMap[K, V]) get(k K) (V, bool) {
	b.mu.RLock()
	v, ok := b.m[k]
	b.mu.RUnlock()
	return v, ok
}

func (b *boundedMap[K, V]) put(k K, v V) {
	b.mu.Lock()
	if len(b.m) >= b.max {
		for old := range b.m {
			delete(b.m, old)
			break
		}
	}
	b.m[k] = v
	b.mu.Unlock()
}

func (b *boundedMap[K, V]) remove(k K) {
	b.mu.Lock()
	delete(b.m, k)
	b.mu.Unlock()
}
