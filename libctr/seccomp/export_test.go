package seccomp

import (
	"slices"

	"github.com/wharf-project/wharf/libctr/configs"
)

// Arches are the Go architectures with a system call table.
func Arches() []string {
	var as []string
	for a := range arches {
		as = append(as, a)
	}
	slices.Sort(as)
	return as
}

// CompileFor compiles for the Go architecture goarch.
func CompileFor(s *configs.Seccomp, goarch string) ([]Instruction, error) {
	return compileFor(s, goarch)
}

// AuditArch is goarch's seccomp_data.arch.
func AuditArch(goarch string) uint32 { return arches[goarch].audit }

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

// Number is a call's number on goarch.
func Number(goarch, name string) (uint32, bool) {
	nr, ok := arches[goarch].table()[name]
	return nr, ok
}

// Names lists the calls goarch has, sorted.
func Names(goarch string) []string {
	var ns []string
	for n := range arches[goarch].table() {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}
