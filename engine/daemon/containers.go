package daemon

import "context"

// ContainerStore is what the daemon itself needs from the container store,
// for /info's counts and /system/df. The container routes talk to the
// store directly.
type ContainerStore interface {
	// ContainerCounts counts the containers by state.
	ContainerCounts() (running, paused, stopped int)
	// ContainerDiskUsage lists every container with its sizes.
	ContainerDiskUsage(ctx context.Context) ([]*containerSummary, error)
}

// VolumeStore is what /system/df needs from the volume store.
type VolumeStore interface {
	// Usage lists every volume with its size and reference count.
	Usage(ctx context.Context) ([]*volumeSummary, error)
}
