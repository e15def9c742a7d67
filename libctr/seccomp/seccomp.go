// Package seccomp compiles the runtime spec's seccomp profile into a
// classic BPF program, in pure Go (no libseccomp), and installs it.
//
// The program has this shape (x86_64):
//
//	ld  [4]                        ; seccomp_data.arch
//	jeq AUDIT_ARCH_X86_64, +1, 0
//	ret KILL_PROCESS               ; another ABI: refuse everything
//	ld  [0]                        ; seccomp_data.nr
//	jge 0x40000000, 0, +1          ; x32 numbers on x86_64
//	ret ERRNO(ENOSYS)
//	; one block per (rule, syscall name), in the profile's order:
//	ld  [0]
//	jeq <nr>, 0, <next block>
//	  ...argument checks, each jumping to <next block> on mismatch...
//	ret <rule action>
//	ret <default action>
//
// The first block that matches decides, so a rule with argument
// conditions falls through to the next rule (or the default) when its
// arguments do not match. Names this architecture lacks are skipped, as
// runc does.
package seccomp

import (
	"errors"
	"fmt"
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

// fail marks a jump to the end of the current block, patched by block().
const fail = 0xff

// Compile turns a profile into a BPF program for this architecture.
func Compile(s *configs.Seccomp) ([]Instruction, error) {
	if len(syscalls()) == 0 {
		return nil, fmt.Errorf("no system call table for this architecture: %w", ErrUnsupported)
	}
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
	prog := []Instruction{
		{Code: ldAbsW, K: offArch},
		{Code: jeqK, Jt: 1, K: auditArch},
		{Code: retK, K: retKillProcess},
		{Code: ldAbsW, K: offNr},
		{Code: jgeK, Jf: 1, K: x32Bit},
		{Code: retK, K: retErrno | enosys},
	}
	for _, rule := range s.Syscalls {
		act, err := action(rule.Action, rule.ErrnoRet, eperm)
		if err != nil {
			return nil, err
		}
		if act == def && len(rule.Args) == 0 {
			continue // the default does the same
		}
		for _, name := range rule.Names {
			nr, ok := syscalls()[name]
			if !ok {
				continue
			}
			b, err := ruleBlock(nr, rule.Args, act)
			if err != nil {
				return nil, fmt.Errorf("rule for %s: %w", name, err)
			}
			prog = append(prog, b...)
		}
	}
	prog = append(prog, Instruction{Code: retK, K: def})
	if len(prog) > 4096 {
		return nil, fmt.Errorf("program of %d instructions exceeds the kernel's 4096: %w", len(prog), ErrUnsupported)
	}
	return prog, nil
}

// ruleBlock is "ld nr; jeq nr; <arg checks>; ret act" with every failing
// jump patched to land just past the block.
func ruleBlock(nr uint32, args []configs.Arg, act uint32) ([]Instruction, error) {
	b := []Instruction{{Code: ldAbsW, K: offNr}, {Code: jeqK, Jf: fail, K: nr}}
	for _, a := range args {
		c, err := argCheck(a)
		if err != nil {
			return nil, err
		}
		b = append(b, c...)
	}
	b = append(b, Instruction{Code: retK, K: act})
	if len(b) > 250 {
		return nil, fmt.Errorf("too many argument conditions: %w", ErrUnsupported)
	}
	for i := range b {
		off := uint8(len(b) - i - 1)
		if b[i].Code&0x07 == 0x05 { // BPF_JMP
			if b[i].Jt == fail {
				b[i].Jt = off
			}
			if b[i].Jf == fail {
				b[i].Jf = off
			}
		}
	}
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

// syscalls is the name-to-number table of this architecture, built once.
var syscalls = sync.OnceValue(syscallTable)
