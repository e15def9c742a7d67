package engine

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
)

// TestNetworkDaemonRestart: a --restart always container on a user
// network with a published port keeps its address and port over a clean
// daemon restart and over a crash (whose leftovers the next daemon
// undoes); the host is as before once everything is gone.
func TestNetworkDaemonRestart(t *testing.T) {
	forward := ipForward(t)
	d, bridge := netDaemon(t)
	table := "wharf-" + bridge
	netID := strings.TrimSpace(d.docker(t, "network", "create", "mynet"))
	bridges := []string{bridge, "br-" + netID[:12]}
	d.removeOnCleanup(t, "rr")
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	d.docker(t, "run", "-d", "--pull=never", "--name", "rr", "--hostname", "rr", "--restart", "always", "--network", "mynet",
		"-p", "127.0.0.1:"+port+":8080", "busybox", "sh", "-c", "mkdir -p /www && echo hello-rr > /www/index.html && exec busybox httpd -f -p 8080 -h /www")
	serving := func(what string) {
		t.Helper()
		poll(t, "wget to 127.0.0.1:"+port+" "+what, func() bool {
			return strings.TrimSpace(hostWget(t, "http://127.0.0.1:"+port+"/")) == "hello-rr"
		})
	}
	serving("at first")
	ip := d.inspectField(t, "rr", "{{.NetworkSettings.Networks.mynet.IPAddress}}")

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		d.restartDaemon(t, sig)
		d.waitStatus(t, "rr", "running")
		serving(fmt.Sprintf("after a restart (%v)", sig))
		if got := d.inspectField(t, "rr", "{{.NetworkSettings.Networks.mynet.IPAddress}}"); got != ip {
			t.Fatalf("address after a restart (%v): %s, was %s", sig, got, ip)
		}
		if got := d.inspectField(t, "rr", `{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}`); got != port {
			t.Fatalf("port after a restart (%v): %s, was %s", sig, got, port)
		}
	}
	if fp := footprint(t, table, bridges...); len(fp) != 3 { // the network's bridge, the container's veth, the table
		t.Errorf("on the host with the container: %v", fp)
	}
	d.docker(t, "rm", "-f", "rr")
	d.docker(t, "network", "rm", "mynet")
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	if fp := footprint(t, table, bridges...); len(fp) != 0 || ipForward(t) != forward {
		t.Fatalf("left on the host after the daemon stopped: %v, ip_forward %s (was %s)", fp, ipForward(t), forward)
	}
}
