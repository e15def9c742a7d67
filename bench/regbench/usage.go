package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// usage is a point in time with the CPU time the server process and this
// client have used so far. Logged per measurement, it tells whether a
// server was busy (CPU-bound), waiting (on the disk, on locks) or starved
// by the client, which a throughput number alone does not.
type usage struct {
	wall, server, client time.Duration
}

// clockTick is USER_HZ, the unit of /proc/PID/stat's times; 100 on every
// Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

var start = time.Now()

func takeUsage(pid int) usage {
	u := usage{wall: time.Since(start)}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.client = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if pid > 0 {
		u.server, _ = procCPU(pid) // unknown shows as 0
	}
	return u
}

func (u usage) since(before usage) usage {
	return usage{wall: u.wall - before.wall, server: u.server - before.server, client: u.client - before.client}
}

// procCPU is utime+stime of process pid (all its threads).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	return time.Duration(ut+st) * clockTick, nil
}
