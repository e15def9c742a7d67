//go:build !linux || !cgo

package nsenter

// Enabled reports whether the constructor is linked into this binary; it is
// not when cgo is off, and joining a running container's namespaces fails.
const Enabled = false

// CgroupJoined is always false without the constructor: see the cgo build.
func CgroupJoined() (bool, error) { return false, nil }
