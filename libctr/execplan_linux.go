package libctr

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/nsenter"
	"github.com/wharf-project/wharf/libctr/seccomp"
)

// An exec into a running container needs no Go in the process that becomes
// the program: the parent resolves the capability masks and compiles the
// seccomp filter, and sends them as an exec plan that the nsenter
// constructor's forked child carries out in C (libctr/nsenter/execplan.c)
// before any Go runtime starts — the same steps, in the same order, as
// initMain and finalize take for an exec. That saves the exec a Go start
// and all package inits of the binary (about half of its cost).
//
// The plan is used unless the process needs what only the Go init does: a
// seccomp notify listener. Its wire format, all integers in native byte
// order:
//
//	u32 length of what follows
//	u32 magic "WXP1", u32 flags (planNNP ...), u32 uid, u32 gid, u32 umask,
//	i32 oom_score_adj, u32 last capability, u32 first fd to close on exec
//	u32 n, n × u32 additional gids
//	5 × u64 capability masks: bounding, effective, inheritable, permitted, ambient
//	u32 n, n × {u32 resource, u64 soft, u64 hard} rlimits
//	u32 n, n × struct sock_filter (u16 code, u8 jt, u8 jf, u32 k)
//	str cwd, str rootfs (for planChroot), strs args, strs env,
//	str session keyring to join ("" for none), u32 permissions to add to it
//
// where str is a u32 length and the bytes, and strs a u32 count of strs.
// The child answers on the init pipe as the Go init does: one
// {"type":"ready"} once the program has been found, or one error message.
// Like the Go init for an exec, it keeps the pipe until execve closes it,
// so a failure after "ready" (a cwd that does not exist, say) reaches the
// caller too, and end-of-file tells it that the program runs.
const (
	planNNP        = 1 << 0
	planCaps       = 1 << 1
	planSeccompLog = 1 << 2
	planUmask      = 1 << 3
	planOOM        = 1 << 4
	planChroot     = 1 << 5
	planTerminal   = 1 << 6 // the pty goes over _LIBCTR_CONSOLEFD

	planMagic = 0x31505857 // "WXP1" read as a little-endian u32

	// The C side refuses plans larger than these (PLAN_MAX and
	// PLAN_MAX_ITEMS in nsenter/plan.h, with the other wire constants:
	// TestPlanConstantsMatchTheC); a process or container beyond them
	// takes the Go init instead (errPlanTooBig).
	planMax      = 16 << 20
	planMaxItems = 4096
)

// errPlanTooBig: the plan would be larger than the C side takes.
var errPlanTooBig = errors.New("plan too big for the C init")

// execPlanOff makes every exec take the Go init, for tests that check
// both paths agree.
var execPlanOff bool

// useExecPlan reports whether p can be exec'd into the container from an
// exec plan.
func useExecPlan(cfg *configs.Config) bool {
	return nsenter.Enabled && !execPlanOff && (cfg.Seccomp == nil || cfg.Seccomp.ListenerPath == "")
}

// encodeExecPlan resolves what finalize would and lays it out for
// execplan.c, with filter compiled from cfg.Seccomp; firstFd is the
// child's init pipe, the first descriptor after the preserved ones.
func encodeExecPlan(cfg *configs.Config, p *configs.Process, id string, filter []seccomp.Instruction, firstFd int) ([]byte, error) {
	var b planBuf
	if err := b.process(cfg, p, id, true, filter, firstFd); err != nil {
		return nil, err
	}
	return b.bytes()
}

// planBuf lays out a plan in the wire format both plans share. A string
// C cannot carry (with a NUL byte) makes bytes fail.
type planBuf struct {
	bytes.Buffer
	err error
}

func (b *planBuf) put(vs ...any) {
	for _, v := range vs {
		_ = binary.Write(&b.Buffer, binary.NativeEndian, v)
	}
}

func (b *planBuf) str(s string) {
	if b.err == nil && strings.IndexByte(s, 0) >= 0 {
		b.err = fmt.Errorf("%q contains a NUL byte: %w", s, configs.ErrInvalid)
	}
	b.put(uint32(len(s)))
	b.WriteString(s)
}

func (b *planBuf) strs(ss []string) {
	b.put(uint32(len(ss)))
	for _, s := range ss {
		b.str(s)
	}
}

// bytes is the plan with its length in front.
func (b *planBuf) bytes() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	if b.Len() > planMax {
		return nil, errPlanTooBig
	}
	out := binary.NativeEndian.AppendUint32(make([]byte, 0, 4+b.Len()), uint32(b.Len()))
	return append(out, b.Bytes()...), nil
}

// process appends the process half of a plan: what finalize needs, from
// the magic "WXP1" on, for a process of container id: an exec, or its init.
func (b *planBuf) process(cfg *configs.Config, p *configs.Process, id string, exec bool, filter []seccomp.Instruction, firstFd int) error {
	c, err := resolveCaps(p.Capabilities)
	if err != nil {
		return err
	}
	var flags uint32
	var umask uint32
	var oom int32
	if p.NoNewPrivileges {
		flags |= planNNP
	}
	if c != nil {
		flags |= planCaps
	} else {
		c = &caps{}
	}
	if cfg.Seccomp != nil && slices.Contains(cfg.Seccomp.Flags, "SECCOMP_FILTER_FLAG_LOG") {
		flags |= planSeccompLog
	}
	if p.Umask != nil {
		flags, umask = flags|planUmask, *p.Umask
	}
	if p.OomScoreAdj != nil {
		flags, oom = flags|planOOM, int32(*p.OomScoreAdj)
	}
	rootfs := ""
	if !cfg.Namespaces.Contains(configs.NEWNS) {
		flags, rootfs = flags|planChroot, cfg.Rootfs
	}
	if p.Terminal {
		flags |= planTerminal
	}
	b.put(uint32(planMagic), flags, p.UID, p.GID, umask, oom, uint32(lastCap()), uint32(firstFd))
	b.put(uint32(len(p.AdditionalGids)), p.AdditionalGids)
	b.put(uint64(c.bounding), uint64(c.effective), uint64(c.inheritable), uint64(c.permitted), uint64(c.ambient))
	b.put(uint32(len(p.Rlimits)))
	for _, rl := range p.Rlimits {
		b.put(uint32(rl.Type), rl.Soft, rl.Hard)
	}
	b.put(uint32(len(filter)), filter)
	b.str(p.Cwd)
	b.str(rootfs)
	b.strs(p.Args)
	b.strs(p.Env)
	keyring, perm := sessionKeyring(cfg, id, exec)
	b.str(keyring)
	b.put(perm)
	return nil
}

// sendPlan hands an exec or init plan to the child, after files when they
// are not nil (the cgroup tasks files of an init, which come first: one
// byte with the descriptors attached; closed here), then awaitPlan.
func sendPlan(parent *os.File, plan []byte, exec bool, files []*os.File, meanwhile func() error) error {
	if err := writePlan(parent, plan, files); err != nil {
		// The child may have failed before it read the plan: its
		// message says why.
		if _, rerr := readSync(json.NewDecoder(parent)); rerr != nil {
			return rerr
		}
		return err
	}
	return awaitPlan(parent, exec, meanwhile)
}

// awaitPlan runs meanwhile (when not nil: the parent's own work, done while
// the child carries the plan out), and waits until the program runs (an
// exec: see awaitExec) or the container is set up and waits for `start`
// (an init: "ready").
func awaitPlan(parent *os.File, exec bool, meanwhile func() error) error {
	dec := json.NewDecoder(parent)
	if meanwhile != nil {
		if err := meanwhile(); err != nil {
			return err
		}
	}
	if exec {
		return awaitExec(dec)
	}
	m, err := readSync(dec)
	if err != nil {
		return err
	}
	if m.Type != syncReady {
		return fmt.Errorf("unexpected message %q from init", m.Type)
	}
	return nil
}

// writePlan writes files (see sendFiles) and plan to the init pipe, which
// holds them until the child reads them, if it does not exist yet.
func writePlan(parent *os.File, plan []byte, files []*os.File) error {
	err := sendFiles(parent, files)
	if err == nil {
		_, err = parent.Write(plan)
	}
	if err != nil {
		return fmt.Errorf("send plan: %w", err)
	}
	return nil
}

// sendFiles sends files over the init pipe unless they are nil, and
// closes them.
func sendFiles(parent *os.File, files []*os.File) error {
	if files == nil {
		return nil
	}
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	var rights []byte
	if len(fds) > 0 {
		rights = unix.UnixRights(fds...)
	}
	// Not parent.Fd(), which would make the pipe blocking again.
	rc, err := parent.SyscallConn()
	if err == nil {
		werr := rc.Write(func(fd uintptr) bool {
			err = unix.Sendmsg(int(fd), []byte{'C'}, rights, nil, unix.MSG_NOSIGNAL)
			return err != unix.EAGAIN
		})
		if err == nil {
			err = werr
		}
	}
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("send the cgroup files: %w", err)
	}
	return nil
}

// awaitExec serves an exec'd process's init pipe: "ready" once the program
// was found, then end-of-file when execve closes the pipe, or an error
// from any step in between. Either init (the plan's C or the Go one)
// keeps the pipe until execve, so Enter returns only once the program
// runs, and with any failure that stopped it.
func awaitExec(dec *json.Decoder) error {
	m, err := readSync(dec)
	if err != nil {
		return err
	}
	if m.Type != syncReady {
		return fmt.Errorf("unexpected message %q from exec", m.Type)
	}
	switch err := dec.Decode(&m); {
	case errors.Is(err, io.EOF):
		return nil // execve closed the pipe: the program runs
	case err != nil:
		return fmt.Errorf("read from exec: %w", err)
	case m.Type == syncError:
		return fmt.Errorf("container init: %s", m.Message)
	}
	return fmt.Errorf("unexpected message %q from exec", m.Type)
}
