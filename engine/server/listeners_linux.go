package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultUnixSocket is where the daemon listens without -H.
const DefaultUnixSocket = "/run/wharf/wharf.sock"

// TLSConfig is dockerd's --tls, --tlsverify and the three file flags.
type TLSConfig struct {
	TLS, Verify   bool
	CA, Cert, Key string
	MinVersion    uint16 // 0 means TLS 1.2
}

// Listen opens one listener per -H address:
//
//	unix:///run/wharf/wharf.sock   a socket file, mode 0660, group group (as dockerd)
//	tcp://127.0.0.1:2375           TCP, with TLS when tlsc.TLS or tlsc.Verify
//	fd://  fd://3  fd://name       sockets passed by systemd (LISTEN_FDS); TCP ones get TLS too
//
// group is a name or number; when it is "docker" (the default) and no such
// group exists, the socket stays root's with a warning, as dockerd does.
func Listen(hosts []string, group string, tlsc TLSConfig, log *slog.Logger) ([]net.Listener, error) {
	var out []net.Listener
	closeAll := func() {
		for _, l := range out {
			_ = l.Close()
		}
	}
	var tc *tls.Config
	if tlsc.TLS || tlsc.Verify {
		var err error
		if tc, err = serverTLS(tlsc); err != nil {
			return nil, err
		}
	}
	for _, h := range hosts {
		proto, addr, ok := strings.Cut(h, "://")
		if !ok {
			closeAll()
			return nil, fmt.Errorf("invalid host %q: want unix://, tcp:// or fd://", h)
		}
		switch proto {
		case "unix":
			if addr == "" {
				addr = DefaultUnixSocket
			}
			l, err := listenUnix(addr, group, log)
			if err != nil {
				closeAll()
				return nil, err
			}
			out = append(out, l)
		case "tcp":
			if !strings.Contains(addr, ":") || strings.HasSuffix(addr, ":") {
				port := "2375"
				if tc != nil {
					port = "2376"
				}
				addr = strings.TrimSuffix(addr, ":") + ":" + port
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				closeAll()
				return nil, fmt.Errorf("listen %s: %w", h, err)
			}
			if tc != nil {
				l = tls.NewListener(l, tc)
			} else {
				log.Warn("api listening on tcp without tls: anyone who can reach it has root", "addr", l.Addr().String())
			}
			out = append(out, l)
		case "fd":
			ls, err := listenFD(addr)
			if err != nil {
				closeAll()
				return nil, err
			}
			for _, l := range ls {
				// TCP sockets from systemd get TLS like -H tcp:// ones.
				if _, isTCP := l.Addr().(*net.TCPAddr); isTCP && tc != nil {
					l = tls.NewListener(l, tc)
				}
				out = append(out, l)
			}
		default:
			closeAll()
			return nil, fmt.Errorf("invalid host %q: unsupported protocol %q", h, proto)
		}
	}
	return out, nil
}

func listenUnix(path, group string, log *slog.Logger) (net.Listener, error) {
	gid, err := lookupGID(group)
	if err != nil {
		if group != "docker" {
			return nil, fmt.Errorf("group %q for the api socket: %w", group, err)
		}
		log.Warn("could not find group for the api socket, leaving it root:root", "group", group)
		gid = 0
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(path, 0, gid); err != nil {
			l.Close()
			return nil, err
		}
	}
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func lookupGID(group string) (int, error) {
	if group == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(group); err == nil {
		return n, nil
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(g.Gid)
}

// serverTLS builds the listener's TLS config. With Verify, a client must show
// a certificate signed by CA (mutual TLS); without, any client may connect.
func serverTLS(c TLSConfig) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
	if err != nil {
		return nil, fmt.Errorf("tls: load --tlscert/--tlskey: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.MinVersion != 0 {
		tc.MinVersion = c.MinVersion
	}
	if c.Verify {
		pem, err := os.ReadFile(c.CA)
		if err != nil {
			return nil, fmt.Errorf("tls: read --tlscacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: no certificate in --tlscacert %s", c.CA)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// listenFD returns the sockets systemd passed (LISTEN_PID, LISTEN_FDS,
// LISTEN_FDNAMES; the first is fd 3). which is "" for all, a number, or a name.
func listenFD(which string) ([]net.Listener, error) {
	if pid, _ := strconv.Atoi(os.Getenv("LISTEN_PID")); pid != os.Getpid() {
		return nil, errors.New("fd://: no sockets passed by systemd (LISTEN_PID is not this process)")
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n < 1 {
		return nil, errors.New("fd://: no sockets passed by systemd (LISTEN_FDS)")
	}
	names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	var out []net.Listener
	for i := 0; i < n; i++ {
		fd := 3 + i
		name := ""
		if i < len(names) {
			name = names[i]
		}
		if which != "" && which != strconv.Itoa(fd) && which != name {
			continue
		}
		f := os.NewFile(uintptr(fd), "listen-fd-"+strconv.Itoa(fd))
		l, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("fd://%d: %w", fd, err)
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("fd://%s: no such socket passed by systemd", which)
	}
	return out, nil
}
