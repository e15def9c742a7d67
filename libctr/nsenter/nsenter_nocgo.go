//go:build !linux || !cgo

package nsenter

import "os"

// Enabled reports whether the constructor is linked into this binary; it is
// not when cgo is off, and joining a running container's namespaces fails.
const Enabled = false

// CgroupJoined is always false without the constructor: see the cgo build.
func CgroupJoined() (bool, error) { return false, nil }

// WireConstants: no C side without cgo.
func WireConstants() map[string]uint64 { return nil }

// TakePrespawned has nothing to hand over without the constructor.
func TakePrespawned() (pid int, sock *os.File, ok bool) { return 0, nil, false }
