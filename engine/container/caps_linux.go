package container

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// allCaps is every capability the kernel numbers, by number.
var allCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// DefaultCapabilities is Docker's default set for a container.
var DefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// normalizeCaps turns user capability names ("net_admin", "CAP_NET_ADMIN",
// "ALL") into canonical ones, refusing unknown ones as dockerd does.
func normalizeCaps(in []string) ([]string, error) {
	var out []string
	for _, c := range in {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "ALL" {
			out = append(out, c)
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !inList(allCaps, c) {
			return nil, errdefs.InvalidParameter(fmt.Errorf("unknown capability: %q", c))
		}
		out = append(out, c)
	}
	return out, nil
}

func inList(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// boundingCaps reads the capabilities this process may pass on (CapBnd of
// /proc/self/status); a privileged container gets exactly these, so a host
// (or an outer container) that lacks one does not make every privileged
// start fail. It falls back to every known capability.
func boundingCaps() []string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return append([]string(nil), allCaps...)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "CapBnd:")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			break
		}
		return capsOfMask(mask)
	}
	return append([]string(nil), allCaps...)
}

func capsOfMask(mask uint64) []string {
	var out []string
	for i, c := range allCaps {
		if mask&(1<<uint(i)) != 0 {
			out = append(out, c)
		}
	}
	return out
}

// tweakCaps is dockerd's rule for the capability set: privileged gets all
// (of the bounding set); ALL in add starts from all; ALL in drop starts
// from nothing but the adds; otherwise defaults minus drops plus adds.
func tweakCaps(bounding, add, drop []string, privileged bool) []string {
	if privileged {
		return append([]string(nil), bounding...)
	}
	add, _ = normalizeCaps(add)
	drop, _ = normalizeCaps(drop)
	var caps []string
	switch {
	case inList(add, "ALL"):
		caps = append(caps, bounding...)
	case inList(drop, "ALL"):
		for _, c := range add {
			if !inList(caps, c) {
				caps = append(caps, c)
			}
		}
	default:
		for _, c := range DefaultCapabilities {
			if !inList(drop, c) {
				caps = append(caps, c)
			}
		}
		for _, c := range add {
			if !inList(caps, c) {
				caps = append(caps, c)
			}
		}
	}
	if caps == nil {
		caps = []string{}
	}
	return caps
}
