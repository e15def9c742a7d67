// Package seccomp compiles the runtime spec's seccomp profile into a
// classic BPF program, in pure Go (no libseccomp), and installs it.
//
// The program has this shape:
//
//	ld  [4]                        ; seccomp_data.arch
//	jeq AUDIT_ARCH_X86_64, +1, 0   ; (or AUDIT_ARCH_AARCH64)
//	ret KILL_PROCESS               ; another ABI: refuse everything
//	ld  [0]                        ; seccomp_data.nr
//	jge 0x40000000, 0, +1          ; x32 numbers (x86_64 only)
//	ret ERRNO(ENOSYS)
//	; a section per call with argument conditions:
//	jeq <nr>, +1, 0
//	ja  <past the section>
//	  <argument checks, each jumping to the next rule on mismatch>
//	  ret <rule action>            ; ...for each rule naming the call
//	  ret <default action>
//	; the calls whose rules have no conditions, per action:
//	jeq <nr>, <ret>, 0             ; a lone number
//	jge <lo>, 0, +1                ; a range lo..hi
//	jgt <hi>, 0, <ret>
//	ja  +1
//	ret <action>
//	ret <default action>
//
// The first rule that matches decides (see Compile). Names this
// architecture lacks are skipped, as runc does.
package seccomp

//go:generate go run gensyscalls.go amd64 arm64

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/wharf-project/wharf/libctr/configs"
)

// Instruction is one classic BPF instruction (struct sock_filter).
type Instruction struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// BPF opcodes used here.
const (
	ldAbsW = 0x20 // BPF_LD | BPF_W | BPF_ABS
	jeqK   = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	jgtK   = 0x25
	jgeK   = 0x35
	jaK    = 0x05 // BPF_JMP | BPF_JA: jump by K
	andK   = 0x54 // BPF_ALU | BPF_AND | BPF_K
	retK   = 0x06 // BPF_RET | BPF_K
)

// Return values of a filter (SECCOMP_RET_*).
const (
	retKillProcess = 0x80000000
	retKillThread  = 0x00000000
	retTrap        = 0x00030000
	retErrno       = 0x00050000
	retTrace       = 0x7ff00000
	retLog         = 0x7ffc0000
	retAllow       = 0x7fff0000
)

const (
	offNr   = 0
	offArch = 4
	offArgs = 16
	x32Bit  = 0x40000000
	eperm   = 1
	enosys  = 38
)

// ErrUnsupported is returned for profiles this compiler cannot express.
var ErrUnsupported = errors.New("seccomp: not supported")

func action(name string, errno *uint, defErrno uint32) (uint32, error) {
	e := defErrno
	if errno != nil {
		e = uint32(*errno)
	}
	switch name {
	case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD":
		return retKillThread, nil
	case "SCMP_ACT_KILL_PROCESS":
		return retKillProcess, nil
	case "SCMP_ACT_TRAP":
		return retTrap, nil
	case "SCMP_ACT_ERRNO":
		return retErrno | (e & 0xffff), nil
	case "SCMP_ACT_TRACE":
		return retTrace | (e & 0xffff), nil
	case "SCMP_ACT_ALLOW":
		return retAllow, nil
	case "SCMP_ACT_LOG":
		return retLog, nil
	case "SCMP_ACT_NOTIFY":
		return 0, fmt.Errorf("action %s (a seccomp agent): %w", name, ErrUnsupported)
	}
	return 0, fmt.Errorf("unknown seccomp action %q: %w", name, configs.ErrInvalid)
}

// fail marks a jump to the end of the current block, patched by condBlock.
const fail = 0xff

// rangesPerRet bounds a run of range checks sharing one return, so that
// every jump to it fits classic BPF's 8-bit offsets (two instructions a
// range at most).
const rangesPerRet = 100

// cond is one rule as it applies to one system call.
type cond struct {
	args []configs.Arg
	act  uint32
}

// Compile turns a profile into a BPF program for this architecture
// (x86_64 or aarch64).
//
// The first rule that matches a call decides (a rule whose arguments do
// not match falls through to the next one, then to the default), so each
// system call's fate is the list of rules that name it, in the profile's
// order, up to the first one without argument conditions. The program
// checks first the calls with conditions, one section each (their rules,
// then the default), and then the calls whose fate is a plain action: per
// action, their numbers as ranges of consecutive ones. That is a few
// dozen instructions for Docker's default profile instead of three per
// allowed call, which the kernel checks and JIT-compiles at every
// container start and exec, and every system call in the container runs.
func Compile(s *configs.Seccomp) ([]Instruction, error) {
	return compileFor(s, runtime.GOARCH)
}

// compileFor compiles for the Go architecture goarch.
func compileFor(s *configs.Seccomp, goarch string) ([]Instruction, error) {
	a, ok := arches[goarch]
	if !ok {
		return nil, fmt.Errorf("no system call table for %s: %w", goarch, ErrUnsupported)
	}
	table := a.table()
	if len(s.Flags) > 0 {
		for _, f := range s.Flags {
			if f != "SECCOMP_FILTER_FLAG_LOG" && f != "SECCOMP_FILTER_FLAG_SPEC_ALLOW" {
				return nil, fmt.Errorf("flag %s: %w", f, ErrUnsupported)
			}
		}
	}
	defErrno := uint32(eperm)
	if s.DefaultErrno != nil {
		defErrno = uint32(*s.DefaultErrno)
	}
	def, err := action(s.DefaultAction, s.DefaultErrno, defErrno)
	if err != nil {
		return nil, err
	}
	fates := map[uint32][]cond{}
	var order []uint32 // system calls by first mention
	for _, rule := range s.Syscalls {
		act, err := action(rule.Action, rule.ErrnoRet, eperm)
		if err != nil {
			return nil, err
		}
		if act == def && len(rule.Args) == 0 {
			continue // the default does the same
		}
		for _, name := range rule.Names {
			nr, ok := table[name]
			if !ok {
				continue
			}
			f, seen := fates[nr]
			if !seen {
				order = append(order, nr)
			}
			if len(f) > 0 && len(f[len(f)-1].args) == 0 {
				continue // decided by an earlier rule
			}
			fates[nr] = append(f, cond{args: rule.Args, act: act})
		}
	}
	prog := []Instruction{
		{Code: ldAbsW, K: offArch},
		{Code: jeqK, Jt: 1, K: a.audit},
		{Code: retK, K: retKillProcess},
		{Code: ldAbsW, K: offNr},
	}
	if a.x32 {
		prog = append(prog, Instruction{Code: jgeK, Jf: 1, K: x32Bit}, Instruction{Code: retK, K: retErrno | enosys})
	}
	// The accumulator holds the call number from here on: a section
	// loads arguments, but always returns.
	plain := map[uint32][]uint32{} // action -> call numbers
	var acts []uint32
	for _, nr := range order {
		f := fates[nr]
		if len(f) == 1 && len(f[0].args) == 0 {
			if _, ok := plain[f[0].act]; !ok {
				acts = append(acts, f[0].act)
			}
			plain[f[0].act] = append(plain[f[0].act], nr)
			continue
		}
		var sec []Instruction
		for _, c := range f {
			b, err := condBlock(c)
			if err != nil {
				return nil, fmt.Errorf("rule for system call %d: %w", nr, err)
			}
			sec = append(sec, b...)
		}
		if len(f[len(f)-1].args) > 0 {
			sec = append(sec, Instruction{Code: retK, K: def})
		}
		prog = append(prog, Instruction{Code: jeqK, Jt: 1, K: nr}, Instruction{Code: jaK, K: uint32(len(sec))})
		prog = append(prog, sec...)
	}
	for _, act := range acts {
		nrs := plain[act]
		slices.Sort(nrs)
		rs := ranges(nrs)
		for len(rs) > 0 {
			n := min(len(rs), rangesPerRet)
			prog = append(prog, rangeChecks(rs[:n], act)...)
			rs = rs[n:]
		}
	}
	prog = append(prog, Instruction{Code: retK, K: def})
	if len(prog) > 4096 {
		return nil, fmt.Errorf("program of %d instructions exceeds the kernel's 4096: %w", len(prog), ErrUnsupported)
	}
	return prog, nil
}

// ranges groups sorted call numbers into runs of consecutive ones.
func ranges(nrs []uint32) [][2]uint32 {
	var rs [][2]uint32
	for _, nr := range nrs {
		if n := len(rs); n > 0 && rs[n-1][1]+1 == nr {
			rs[n-1][1] = nr
			continue
		}
		rs = append(rs, [2]uint32{nr, nr})
	}
	return rs
}

// rangeChecks returns act for a call number in one of rs, and falls
// through past its return otherwise.
func rangeChecks(rs [][2]uint32, act uint32) []Instruction {
	var b []Instruction
	for _, r := range rs {
		if r[0] == r[1] {
			b = append(b, Instruction{Code: jeqK, Jt: fail, K: r[0]})
			continue
		}
		b = append(b, Instruction{Code: jgeK, Jf: 1, K: r[0]}, Instruction{Code: jgtK, Jf: fail, K: r[1]})
	}
	b = append(b, Instruction{Code: jaK, K: 1}, Instruction{Code: retK, K: act})
	patchFails(b, len(b)-1) // a match returns act
	return b
}

// patchFails points every jump of b that is still fail at b[target]
// (len(b): just past the block).
func patchFails(b []Instruction, target int) {
	for i := range b {
		if b[i].Jt == fail {
			b[i].Jt = uint8(target - i - 1)
		}
		if b[i].Jf == fail {
			b[i].Jf = uint8(target - i - 1)
		}
	}
}

// condBlock is "<argument checks>; ret act" with every failing jump
// patched to land just past the block.
func condBlock(c cond) ([]Instruction, error) {
	var b []Instruction
	for _, a := range c.args {
		ck, err := argCheck(a)
		if err != nil {
			return nil, err
		}
		b = append(b, ck...)
	}
	b = append(b, Instruction{Code: retK, K: c.act})
	if len(b) > 250 {
		return nil, fmt.Errorf("too many argument conditions: %w", ErrUnsupported)
	}
	patchFails(b, len(b))
	return b, nil
}

// argCheck compares a 64-bit argument as two 32-bit halves (classic BPF
// has 32-bit registers); it falls through on a match and jumps to fail
// otherwise.
func argCheck(a configs.Arg) ([]Instruction, error) {
	if a.Index > 5 {
		return nil, fmt.Errorf("argument index %d: %w", a.Index, configs.ErrInvalid)
	}
	lo, hi := uint32(offArgs+8*a.Index), uint32(offArgs+8*a.Index+4)
	vlo, vhi := uint32(a.Value), uint32(a.Value>>32)
	ld := func(off uint32) Instruction { return Instruction{Code: ldAbsW, K: off} }
	switch a.Op {
	case "SCMP_CMP_EQ":
		return []Instruction{ld(hi), {Code: jeqK, Jf: fail, K: vhi}, ld(lo), {Code: jeqK, Jf: fail, K: vlo}}, nil
	case "SCMP_CMP_NE":
		return []Instruction{ld(hi), {Code: jeqK, Jf: 2, K: vhi}, ld(lo), {Code: jeqK, Jt: fail, K: vlo}}, nil
	case "SCMP_CMP_MASKED_EQ":
		wlo, whi := uint32(a.ValueTwo), uint32(a.ValueTwo>>32)
		return []Instruction{ld(hi), {Code: andK, K: vhi}, {Code: jeqK, Jf: fail, K: whi},
			ld(lo), {Code: andK, K: vlo}, {Code: jeqK, Jf: fail, K: wlo}}, nil
	case "SCMP_CMP_GT", "SCMP_CMP_GE":
		last := Instruction{Code: jgtK, Jf: fail, K: vlo}
		if a.Op == "SCMP_CMP_GE" {
			last.Code = jgeK
		}
		return []Instruction{ld(hi), {Code: jgtK, Jt: 3, K: vhi}, {Code: jeqK, Jf: fail, K: vhi}, ld(lo), last}, nil
	case "SCMP_CMP_LT", "SCMP_CMP_LE":
		last := Instruction{Code: jgeK, Jt: fail, K: vlo}
		if a.Op == "SCMP_CMP_LE" {
			last.Code = jgtK
		}
		return []Instruction{ld(hi), {Code: jgeK, Jf: 3, K: vhi}, {Code: jeqK, Jf: fail, K: vhi}, ld(lo), last}, nil
	}
	return nil, fmt.Errorf("operator %q: %w", a.Op, configs.ErrInvalid)
}

// arch is what the compiler needs of an architecture.
type arch struct {
	audit uint32                   // seccomp_data.arch: AUDIT_ARCH_*
	table func() map[string]uint32 // names to numbers, built on first use
	x32   bool                     // x86_64: refuse the x32 ABI's numbers
}

// arches are the architectures with a system call table (see
// gensyscalls.go), by Go's name.
var arches = map[string]arch{
	"amd64": {audit: 0xc000003e, table: sync.OnceValue(syscallsAmd64), x32: true},
	"arm64": {audit: 0xc00000b7, table: sync.OnceValue(syscallsArm64)},
}
