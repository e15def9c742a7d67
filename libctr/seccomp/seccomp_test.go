package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/wharf-project/wharf/libctr/configs"
)

// run interprets prog on one seccomp_data, as the kernel would.
func run(t *testing.T, prog []Instruction, arch, nr uint32, args [6]uint64) uint32 {
	t.Helper()
	ret, err := interpret(prog, arch, nr, args)
	if err != nil {
		t.Fatal(err)
	}
	return ret
}

func interpret(prog []Instruction, arch, nr uint32, args [6]uint64) (uint32, error) {
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[0:], nr)
	binary.LittleEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case ldAbsW:
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case andK:
			acc &= in.K
		case retK:
			return in.K, nil
		case jaK:
			pc += int(in.K)
		case jeqK, jgtK, jgeK:
			ok := acc == in.K
			if in.Code == jgtK {
				ok = acc > in.K
			} else if in.Code == jgeK {
				ok = acc >= in.K
			}
			if ok {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		default:
			return 0, fmt.Errorf("unknown opcode %#x at %d", in.Code, pc)
		}
	}
	return 0, errors.New("fell off the end of the program")
}

func u(v uint) *uint { return &v }

func TestCompileSemantics(t *testing.T) {
	prof := &configs.Seccomp{
		DefaultAction: "SCMP_ACT_ERRNO",
		Syscalls: []configs.SyscallRule{
			{Names: []string{"read", "write", "no_such_syscall"}, Action: "SCMP_ACT_ALLOW"},
			{Names: []string{"personality"}, Action: "SCMP_ACT_ALLOW", Args: []configs.Arg{{Index: 0, Value: 0x20008, Op: "SCMP_CMP_EQ"}}},
			{Names: []string{"clone"}, Action: "SCMP_ACT_ALLOW", Args: []configs.Arg{{Index: 0, Value: 0x7e020000, ValueTwo: 0, Op: "SCMP_CMP_MASKED_EQ"}}},
			{Names: []string{"socket"}, Action: "SCMP_ACT_ALLOW", Args: []configs.Arg{{Index: 0, Value: 40, Op: "SCMP_CMP_NE"}}},
			{Names: []string{"kill"}, Action: "SCMP_ACT_ERRNO", ErrnoRet: u(38)},
			{Names: []string{"dup"}, Action: "SCMP_ACT_ALLOW", Args: []configs.Arg{{Index: 1, Value: 1 << 33, Op: "SCMP_CMP_GT"}}},
			{Names: []string{"dup2"}, Action: "SCMP_ACT_ALLOW", Args: []configs.Arg{{Index: 0, Value: 10, Op: "SCMP_CMP_LT"}}},
			{Names: []string{"dup3"}, Action: "SCMP_ACT_ALLOW", Args: []configs.Arg{{Index: 0, Value: 10, Op: "SCMP_CMP_LE"}, {Index: 1, Value: 3, Op: "SCMP_CMP_GE"}}},
		},
	}
	prog, err := compileFor(prof, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	nr := func(n string) uint32 { return arches["amd64"].table()[n] }
	const auditArch = 0xc000003e
	const deny = retErrno | eperm
	cases := []struct {
		name string
		arch uint32
		nr   uint32
		args [6]uint64
		want uint32
	}{
		{"read", auditArch, nr("read"), [6]uint64{}, retAllow},
		{"write", auditArch, nr("write"), [6]uint64{}, retAllow},
		{"mkdir denied", auditArch, nr("mkdir"), [6]uint64{}, deny},
		{"other arch", 0x40000003, nr("read"), [6]uint64{}, retKillProcess},
		{"x32", auditArch, nr("read") | x32Bit, [6]uint64{}, retErrno | enosys},
		{"personality eq", auditArch, nr("personality"), [6]uint64{0x20008}, retAllow},
		{"personality ne", auditArch, nr("personality"), [6]uint64{0x20009}, deny},
		{"personality high word", auditArch, nr("personality"), [6]uint64{1<<32 | 0x20008}, deny},
		{"clone thread", auditArch, nr("clone"), [6]uint64{0x3d0f00}, retAllow},
		{"clone newns", auditArch, nr("clone"), [6]uint64{0x00020000 | 0x11}, deny},
		{"socket inet", auditArch, nr("socket"), [6]uint64{2}, retAllow},
		{"socket vsock", auditArch, nr("socket"), [6]uint64{40}, deny},
		{"kill errno", auditArch, nr("kill"), [6]uint64{}, retErrno | 38},
		{"gt high", auditArch, nr("dup"), [6]uint64{0, 1<<33 + 1}, retAllow},
		{"gt equal", auditArch, nr("dup"), [6]uint64{0, 1 << 33}, deny},
		{"gt low", auditArch, nr("dup"), [6]uint64{0, 5}, deny},
		{"gt above hi", auditArch, nr("dup"), [6]uint64{0, 1 << 34}, retAllow},
		{"lt", auditArch, nr("dup2"), [6]uint64{9}, retAllow},
		{"lt equal", auditArch, nr("dup2"), [6]uint64{10}, deny},
		{"lt high word", auditArch, nr("dup2"), [6]uint64{1 << 32}, deny},
		{"le and ge", auditArch, nr("dup3"), [6]uint64{10, 3}, retAllow},
		{"le and ge fails ge", auditArch, nr("dup3"), [6]uint64{10, 2}, deny},
		{"le and ge fails le", auditArch, nr("dup3"), [6]uint64{11, 3}, deny},
	}
	for _, c := range cases {
		if got := run(t, prog, c.arch, c.nr, c.args); got != c.want {
			t.Errorf("%s: %#x, want %#x", c.name, got, c.want)
		}
	}
}

func TestCompileRejects(t *testing.T) {
	for name, p := range map[string]*configs.Seccomp{
		"bad default": {DefaultAction: "SCMP_ACT_NOPE"},
		"notify":      {DefaultAction: "SCMP_ACT_ALLOW", Syscalls: []configs.SyscallRule{{Names: []string{"read"}, Action: "SCMP_ACT_NOTIFY"}}},
		"bad op":      {DefaultAction: "SCMP_ACT_ALLOW", Syscalls: []configs.SyscallRule{{Names: []string{"read"}, Action: "SCMP_ACT_ERRNO", Args: []configs.Arg{{Op: "SCMP_CMP_NOPE"}}}}},
		"bad index":   {DefaultAction: "SCMP_ACT_ALLOW", Syscalls: []configs.SyscallRule{{Names: []string{"read"}, Action: "SCMP_ACT_ERRNO", Args: []configs.Arg{{Index: 6, Op: "SCMP_CMP_EQ"}}}}},
	} {
		if _, err := Compile(p); err == nil {
			t.Errorf("%s: compiled", name)
		}
	}
}
