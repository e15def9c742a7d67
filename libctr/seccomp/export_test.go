//go:build linux && amd64

package seccomp

import "slices"

// AuditArch is this architecture's seccomp_data.arch.
const AuditArch = auditArch

// Run interprets prog on one call, as the kernel would.
func Run(prog []Instruction, arch, nr uint32, args [6]uint64) (uint32, error) {
	return interpret(prog, arch, nr, args)
}

// Action is the return value of a rule's action (unknown ones panic).
func Action(name string, errno *uint, defErrno uint32) uint32 {
	a, err := action(name, errno, defErrno)
	if err != nil {
		panic(err)
	}
	return a
}

// Number is a call's number on this architecture.
func Number(name string) (uint32, bool) {
	nr, ok := syscalls()[name]
	return nr, ok
}

// Names lists the calls this architecture has, sorted.
func Names() []string {
	var ns []string
	for n := range syscalls() {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}
