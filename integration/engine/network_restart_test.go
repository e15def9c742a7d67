package engine

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
)

// TestNetworkDaemonRestart: a --restart always container on a user
// network with a published port keeps its address and port over a clean
// daemon restart (it is stopped and started again) and over a crash (it
// runs on, and the next daemon adopts it with its sandbox: same process,
// same address, its port served again); the host is as before once
// everything is gone.
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
		pid := d.inspectField(t, "rr", "{{.State.Pid}}")
		d.restartDaemon(t, sig)
		d.waitStatus(t, "rr", "running")
		if got := d.inspectField(t, "rr", "{{.State.Pid}}"); sig == syscall.SIGKILL && got != pid {
			t.Fatalf("after a crash, rr is process %s, not the adopted %s", got, pid)
		}
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

// With --live-restore, a container on the default bridge with a published
// port runs on over a clean daemon restart: same process, same address,
// its port served again by the next daemon. A daemon stopped with
// live-restore keeps its bridge and table for the next one (as dockerd
// keeps docker0 and its rules), but no container's veth once they are
// gone; the test removes the two at the end.
func TestNetworkLiveRestore(t *testing.T) {
	forward := ipForward(t)
	d, bridge := netDaemon(t, "--live-restore")
	table := "wharf-" + bridge
	t.Cleanup(func() {
		_ = d.stop()
		if l, err := netlink.LinkByName(bridge); err == nil {
			_ = netlink.LinkDel(l)
		}
		if c, err := nftables.New(); err == nil {
			c.DelTable(&nftables.Table{Name: table, Family: nftables.TableFamilyIPv4})
			_ = c.Flush()
		}
	})
	d.removeOnCleanup(t, "lrnet")
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	d.docker(t, "run", "-d", "--pull=never", "--name", "lrnet", "-p", "127.0.0.1:"+port+":8080", "busybox", "sh", "-c",
		"mkdir -p /www && echo hello-lr > /www/index.html && exec busybox httpd -f -p 8080 -h /www")
	serving := func(what string) {
		t.Helper()
		poll(t, "wget to 127.0.0.1:"+port+" "+what, func() bool {
			return strings.TrimSpace(hostWget(t, "http://127.0.0.1:"+port+"/")) == "hello-lr"
		})
	}
	serving("at first")
	pid := d.inspectField(t, "lrnet", "{{.State.Pid}}")
	ip := d.inspectField(t, "lrnet", "{{.NetworkSettings.IPAddress}}")
	d.restartDaemon(t, syscall.SIGTERM)
	if got := d.inspectField(t, "lrnet", "{{.State.Status}} {{.State.Pid}} {{.NetworkSettings.IPAddress}}"); got != "running "+pid+" "+ip {
		t.Fatalf("after a clean restart with live-restore: %s (was running %s %s)", got, pid, ip)
	}
	serving("after the restart")
	d.docker(t, "rm", "-f", "lrnet")
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	if fp := footprint(t, table, bridge); strings.Join(fp, ",") != "bridge "+bridge+",table "+table || ipForward(t) != forward {
		t.Fatalf("left on the host after the daemon stopped: %v, ip_forward %s (was %s)", fp, ipForward(t), forward)
	}
}
