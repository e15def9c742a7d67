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

// claimBridge takes a namespace-wide claim on a bridge name for as long
// as the returned function is not called (or the process lives): two
// daemons must not share a default bridge, since each hands out its
// addresses on its own. A claim left by a daemon that died is gone with
// it, so its bridge is taken over.
func claimBridge(nsFd int, name string) (release func(), err error) {
	var fd int
	err = inNetns(nsFd, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrUnix{Name: "@wharf-bridge-" + name}); err != nil {
			unix.Close(fd)
			return err
		}
		return nil
	})
	if errors.Is(err, unix.EADDRINUSE) {
		return nil, fmt.Errorf("bridge %s is in use by another wharf daemon: give this one a bridge of its own (--bridge)", name)
	}
	if err != nil {
		return nil, err
	}
	return func() { unix.Close(fd) }, nil
}
