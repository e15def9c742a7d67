package libctr

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// dialConsole connects to the --console-socket of runc's protocol: the
// caller listens on a unix socket, the runtime sends it the pty master as
// an SCM_RIGHTS message (with the master's name as the payload).
func dialConsole(path string) (*os.File, error) {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	defer conn.Close()
	return conn.File() // a dup the child inherits
}

// setupConsole runs in the init: it opens a new pty in the container's
// devpts, sends the master over the console socket, and makes the slave
// the process's stdio and controlling terminal.
func setupConsole(sockFd int) error {
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/ptmx: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(master, unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("pty number: %w", err)
	}
	slavePath := "/dev/pts/" + strconv.Itoa(n)
	slave, err := unix.Open(slavePath, unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", slavePath, err)
	}
	rights := unix.UnixRights(master)
	if err := unix.Sendmsg(sockFd, []byte("/dev/ptmx"), rights, nil, 0); err != nil {
		return fmt.Errorf("send pty master: %w", err)
	}
	unix.Close(sockFd)
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return err
		}
	}
	if slave > 2 {
		unix.Close(slave)
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("set controlling terminal: %w", err)
	}
	return nil
}

// RecvConsole is the other end of the console socket: it accepts the
// runtime's connection on ln and returns the pty master it sends.
func RecvConsole(ln *net.UnixListener) (*os.File, error) {
	conn, err := ln.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	buf, oob := make([]byte, 64), make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return nil, fmt.Errorf("console socket: no pty master received (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return nil, fmt.Errorf("console socket: no pty master received (%v)", err)
	}
	for _, fd := range fds[1:] {
		unix.Close(fd)
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}
