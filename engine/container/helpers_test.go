package container

import (
	"strconv"
	"time"

	"github.com/docker/go-connections/nat"
)

type (
	natPort    = nat.Port
	natBinding = nat.PortBinding
)

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

func timeNow() time.Time { return time.Now() }
