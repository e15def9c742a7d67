package seccomp

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Load installs prog as a seccomp filter on the calling thread, which then
// passes it to the program it execs. The caller must hold CAP_SYS_ADMIN
// or have set no_new_privs.
func Load(prog []Instruction, logFlag bool) error {
	if len(prog) == 0 {
		return nil
	}
	filters := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		filters[i] = unix.SockFilter{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
	var flags uintptr
	if logFlag {
		flags |= unix.SECCOMP_FILTER_FLAG_LOG
	}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return fmt.Errorf("seccomp(SET_MODE_FILTER): %w", errno)
	}
	return nil
}
