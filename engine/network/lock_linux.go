package network

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// lockSubnets serialises choosing a subnet and configuring its bridge
// between every wharf daemon (and test) working in one network namespace:
// another daemon's bridge routes are what a new subnet must not overlap,
// so two of them choosing at once could pick the same one. The lock is an
// abstract unix socket name, which belongs to the namespace and is
// released when its holder closes it or dies; nothing is left on disk.
func lockSubnets(ctx context.Context, nsFd int) (unlock func(), err error) {
	const name = "@wharf-network-subnets"
	for {
		var fd int
		err := inNetns(nsFd, func() error {
			var err error
			fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			if err := unix.Bind(fd, &unix.SockaddrUnix{Name: name}); err != nil {
				unix.Close(fd)
				return err
			}
			return nil
		})
		if err == nil {
			return func() { unix.Close(fd) }, nil
		}
		if !errors.Is(err, unix.EADDRINUSE) {
			return nil, fmt.Errorf("subnet lock: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("subnet lock: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
