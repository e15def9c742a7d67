//go:build !(linux && amd64)

package seccomp

// Only x86_64 has a syscall table so far: every profile compiles to a
// program that refuses other architectures' calls.
const auditArch = 0xc000003e

func syscallTable() map[string]uint32 { return map[string]uint32{} }
