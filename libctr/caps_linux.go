package libctr

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/specconv"
)

// capSet is a set of capability numbers as the kernel's 64-bit masks.
type capSet uint64

func (s capSet) has(c int) bool { return s&(1<<uint(c)) != 0 }

// lastCap is the highest capability this kernel knows (read once).
var lastCap = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 40
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 40
	}
	return n
})

// available is what this process may grant: capabilities the kernel knows
// and the host's bounding set still holds (a host without CAP_SYS_RESOURCE
// cannot give it to a container, so it is left out instead of failing).
// Read once: a process's bounding set only shrinks, and only the init's
// own thread drops from it, after it has resolved its sets.
var available = sync.OnceValue(func() capSet {
	var s capSet
	for c := 0; c <= lastCap(); c++ {
		if ok, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0); err == nil && ok == 1 {
			s |= 1 << uint(c)
		}
	}
	return s
})

func toSet(names []string, avail capSet) (capSet, error) {
	var s capSet
	for _, n := range names {
		c, ok := specconv.CapabilityByName(n)
		if !ok {
			return 0, fmt.Errorf("unknown capability %q", n)
		}
		if avail.has(c) {
			s |= 1 << uint(c)
		}
	}
	return s, nil
}

// caps are the five sets resolved to masks, ready to apply.
type caps struct {
	bounding, effective, inheritable, permitted, ambient capSet
}

func resolveCaps(c *configs.Capabilities) (*caps, error) {
	if c == nil {
		return nil, nil
	}
	avail := available()
	var out caps
	var err error
	for _, x := range []struct {
		dst   *capSet
		names []string
	}{{&out.bounding, c.Bounding}, {&out.effective, c.Effective}, {&out.inheritable, c.Inheritable}, {&out.permitted, c.Permitted}, {&out.ambient, c.Ambient}} {
		if *x.dst, err = toSet(x.names, avail); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// dropBounding removes every capability outside the bounding set from
// this thread (the one that will execve). Needs CAP_SETPCAP, so it runs
// before the user changes.
func (c *caps) dropBounding() error {
	for n := 0; n <= lastCap(); n++ {
		if c.bounding.has(n) {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(n), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("drop capability %d from the bounding set: %w", n, err)
		}
	}
	return nil
}

// apply sets effective, permitted and inheritable with capset(2), then
// raises the ambient ones, on this thread.
func (c *caps) apply() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	data[0].Effective, data[1].Effective = uint32(c.effective), uint32(c.effective>>32)
	data[0].Permitted, data[1].Permitted = uint32(c.permitted), uint32(c.permitted>>32)
	data[0].Inheritable, data[1].Inheritable = uint32(c.inheritable), uint32(c.inheritable>>32)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	_ = unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	for n := 0; n <= lastCap(); n++ {
		if c.ambient.has(n) {
			if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(n), 0, 0); err != nil {
				return fmt.Errorf("raise ambient capability %d: %w", n, err)
			}
		}
	}
	return nil
}
