//go:build !cgo

package sigfwd

import "syscall"

// rtRange is SIGRTMIN-SIGRTMAX as glibc numbers them (no libc here to
// reserve any).
func rtRange() (int, int) { return 34, 64 }

// catchC needs cgo: Catch uses os/signal instead.
func catchC() (<-chan syscall.Signal, error) { return nil, errNoCgo }
