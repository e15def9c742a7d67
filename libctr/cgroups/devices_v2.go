package cgroups

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
)

// cgroup v2 has no devices.allow file: device access is decided by an
// eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup.
// deviceFilter compiles the rules into one, checking them from the last to
// the first so that a later rule overrides an earlier one, as successive
// writes to v1's devices.allow/deny do; what no rule matches is denied.
//
//	r2 = ctx.access_type & 0xffff   ; BPF_DEVCG_DEV_BLOCK 1, _CHAR 2
//	r3 = ctx.access_type >> 16      ; BPF_DEVCG_ACC_MKNOD 1, _READ 2, _WRITE 4
//	r4 = ctx.major; r5 = ctx.minor
//	per rule, last first:
//	  if r2 != type goto next       ; unless the rule is for 'a'll
//	  r6 = r3 & ^access; if r6 != 0 goto next
//	  if r4 != major goto next      ; unless major is -1
//	  if r5 != minor goto next      ; unless minor is -1
//	  r0 = allow; exit
//	next: ...
//	r0 = 0; exit
type bpfInsn struct {
	code byte
	regs byte // dst | src<<4
	off  int16
	imm  int32
}

const (
	bpfLdxW   = 0x61 // BPF_LDX | BPF_W | BPF_MEM
	bpfAnd32K = 0x54 // BPF_ALU | BPF_AND | BPF_K
	bpfRsh32K = 0x74 // BPF_ALU | BPF_RSH | BPF_K
	bpfMov64X = 0xbf // BPF_ALU64 | BPF_MOV | BPF_X
	bpfMov64K = 0xb7 // BPF_ALU64 | BPF_MOV | BPF_K
	bpfJneK   = 0x55 // BPF_JMP | BPF_JNE | BPF_K
	bpfExit   = 0x95
)

// bpfLicense is a package variable so that it never lives on a stack that
// could move while the kernel holds its address.
var bpfLicense = []byte("Apache-2.0\x00")

func deviceFilter(rules []configs.DeviceRule) ([]bpfInsn, error) {
	prog := []bpfInsn{
		{code: bpfLdxW, regs: 2 | 1<<4, off: 0},
		{code: bpfAnd32K, regs: 2, imm: 0xffff},
		{code: bpfLdxW, regs: 3 | 1<<4, off: 0},
		{code: bpfRsh32K, regs: 3, imm: 16},
		{code: bpfLdxW, regs: 4 | 1<<4, off: 4},
		{code: bpfLdxW, regs: 5 | 1<<4, off: 8},
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		var block []bpfInsn
		switch r.Type {
		case 'a':
		case 'c':
			block = append(block, bpfInsn{code: bpfJneK, regs: 2, imm: unix.BPF_DEVCG_DEV_CHAR})
		case 'b':
			block = append(block, bpfInsn{code: bpfJneK, regs: 2, imm: unix.BPF_DEVCG_DEV_BLOCK})
		default:
			return nil, fmt.Errorf("device rule type %q: %w", r.Type, configs.ErrInvalid)
		}
		var acc int32
		for _, c := range r.Access {
			switch c {
			case 'r':
				acc |= unix.BPF_DEVCG_ACC_READ
			case 'w':
				acc |= unix.BPF_DEVCG_ACC_WRITE
			case 'm':
				acc |= unix.BPF_DEVCG_ACC_MKNOD
			default:
				return nil, fmt.Errorf("device rule access %q: %w", r.Access, configs.ErrInvalid)
			}
		}
		if acc != 7 {
			block = append(block,
				bpfInsn{code: bpfMov64X, regs: 6 | 3<<4},
				bpfInsn{code: bpfAnd32K, regs: 6, imm: 7 &^ acc},
				bpfInsn{code: bpfJneK, regs: 6, imm: 0})
		}
		if r.Major >= 0 {
			block = append(block, bpfInsn{code: bpfJneK, regs: 4, imm: int32(r.Major)})
		}
		if r.Minor >= 0 {
			block = append(block, bpfInsn{code: bpfJneK, regs: 5, imm: int32(r.Minor)})
		}
		allow := int32(0)
		if r.Allow {
			allow = 1
		}
		block = append(block, bpfInsn{code: bpfMov64K, regs: 0, imm: allow}, bpfInsn{code: bpfExit})
		// Every "goto next" lands just past this block.
		for j := range block {
			if block[j].code == bpfJneK {
				block[j].off = int16(len(block) - j - 1)
			}
		}
		prog = append(prog, block...)
		if len(block) == 2 {
			// A rule for every device and access decides everything the
			// rules before it would have: the verifier refuses code
			// that cannot be reached.
			return prog, nil
		}
	}
	return append(prog, bpfInsn{code: bpfMov64K, regs: 0, imm: 0}, bpfInsn{code: bpfExit}), nil
}

// attachDeviceFilter loads the program and attaches it to the cgroup
// directory dir (with BPF_F_ALLOW_MULTI, so a later Set adds to it).
func attachDeviceFilter(dir string, rules []configs.DeviceRule) error {
	prog, err := deviceFilter(rules)
	if err != nil {
		return err
	}
	code := make([]byte, 8*len(prog))
	for i, in := range prog {
		code[8*i] = in.code
		code[8*i+1] = in.regs
		binary.LittleEndian.PutUint16(code[8*i+2:], uint16(in.off))
		binary.LittleEndian.PutUint32(code[8*i+4:], uint32(in.imm))
	}
	fd, err := loadProgram(code, len(prog))
	if err != nil {
		return err
	}
	defer unix.Close(int(fd))
	cg, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(cg)
	var attach [128]byte // BPF_PROG_ATTACH part
	binary.NativeEndian.PutUint32(attach[0:], uint32(cg))
	binary.NativeEndian.PutUint32(attach[4:], uint32(fd))
	binary.NativeEndian.PutUint32(attach[8:], unix.BPF_CGROUP_DEVICE)
	binary.NativeEndian.PutUint32(attach[12:], unix.BPF_F_ALLOW_MULTI)
	if _, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_ATTACH, uintptr(unsafe.Pointer(&attach[0])), unsafe.Sizeof(attach)); errno != 0 {
		return fmt.Errorf("attach device filter to %s: %w", dir, errno)
	}
	return nil
}

// loadProgram loads the device program. The verifier gives up with
// EAGAIN when a signal is pending, and the Go runtime signals its threads
// (SIGURG, for preemption) all the time, so EAGAIN is retried, many times
// (libbpf retries too); on a real refusal the program is loaded once more
// with the verifier's log, to say why.
func loadProgram(code []byte, n int) (uintptr, error) {
	load := func(logBuf []byte) (uintptr, unix.Errno) {
		var attr [128]byte // union bpf_attr, BPF_PROG_LOAD part
		binary.NativeEndian.PutUint32(attr[0:], unix.BPF_PROG_TYPE_CGROUP_DEVICE)
		binary.NativeEndian.PutUint32(attr[4:], uint32(n))
		binary.NativeEndian.PutUint64(attr[8:], uint64(uintptr(unsafe.Pointer(&code[0]))))
		binary.NativeEndian.PutUint64(attr[16:], uint64(uintptr(unsafe.Pointer(&bpfLicense[0]))))
		if logBuf != nil {
			binary.NativeEndian.PutUint32(attr[24:], 1)
			binary.NativeEndian.PutUint32(attr[28:], uint32(len(logBuf)))
			binary.NativeEndian.PutUint64(attr[32:], uint64(uintptr(unsafe.Pointer(&logBuf[0]))))
		}
		fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&attr[0])), unsafe.Sizeof(attr))
		runtime.KeepAlive(code)
		runtime.KeepAlive(logBuf)
		return fd, errno
	}
	var errno unix.Errno
	for attempt := 0; attempt < 1000; attempt++ {
		var fd uintptr
		if fd, errno = load(nil); errno == 0 {
			return fd, nil
		}
		if errno != unix.EAGAIN {
			break
		}
	}
	logBuf := make([]byte, 4096)
	if fd, e := load(logBuf); e == 0 {
		return fd, nil // refused a moment ago, accepted now
	}
	return 0, fmt.Errorf("load device filter: %w: %s", errno, bytes.TrimRight(logBuf, "\x00"))
}
