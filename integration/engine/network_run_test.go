package engine

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Debian's busybox 1.35 wget crashes with -T: container wgets run without
// it, bounded by the CLI's own time limit.

// TestNetworkRunUserNetworks: containers on a user network reach each
// other by name and alias through the embedded DNS server (which forwards
// other names to the daemon's --dns, here a fake resolver on loopback),
// and not across networks, until connected.
func TestNetworkRunUserNetworks(t *testing.T) {
	upstream := fakeDNS(t)
	d, _ := netDaemon(t, "--dns", upstream)
	since := fmt.Sprint(time.Now().Add(-time.Second).Unix())
	d.docker(t, "network", "create", "mynet")
	d.docker(t, "network", "create", "other")
	d.removeOnCleanup(t, "c1", "c2", "c3")
	d.docker(t, "run", "-d", "--pull=never", "--name", "c1", "--network", "mynet", "busybox", "sleep", "300")
	d.docker(t, "run", "-d", "--pull=never", "--name", "c2", "--network", "mynet", "--network-alias", "web", "busybox", "sleep", "300")
	d.docker(t, "run", "-d", "--pull=never", "--name", "c3", "--network", "other", "busybox", "sleep", "300")

	for _, name := range []string{"c2", "web", "c2.mynet"} {
		d.docker(t, "exec", "c1", "ping", "-c", "1", "-W", "5", name)
	}
	d.docker(t, "exec", "c2", "ping", "-c", "1", "-W", "5", "c1")
	// wget to a server in c2, by its name and its alias.
	d.docker(t, "exec", "-d", "c2", "busybox", "httpd", "-p", "8080", "-h", "/etc")
	c2Host := d.inspectField(t, "c2", "{{.Config.Hostname}}")
	for _, name := range []string{"c2", "web"} {
		poll(t, "wget from c1 to http://"+name+":8080/", func() bool {
			out, _ := d.dockerErr("exec", "c1", "wget", "-qO-", "http://"+name+":8080/hostname")
			return strings.TrimSpace(out) == c2Host
		})
	}
	if got := d.docker(t, "exec", "c1", "cat", "/etc/resolv.conf"); !strings.Contains(got, "nameserver 127.0.0.11") {
		t.Fatalf("resolv.conf of c1:\n%s", got)
	}
	c2IP := d.inspectField(t, "c2", "{{.NetworkSettings.Networks.mynet.IPAddress}}")
	if ip := net.ParseIP(c2IP); ip == nil || ip.To4() == nil {
		t.Fatalf("c2's address %q", c2IP)
	}
	if hosts := d.docker(t, "exec", "c2", "cat", "/etc/hosts"); !strings.Contains(hosts, c2IP+"\t") {
		t.Fatalf("/etc/hosts of c2 lacks its address %s:\n%s", c2IP, hosts)
	}
	if got := d.inspectField(t, "c2", "{{json .NetworkSettings.Networks.mynet.Aliases}}"); !strings.Contains(got, `"web"`) {
		t.Fatalf("aliases of c2: %s", got)
	}
	// A name no container has goes to the upstream resolver, whose answer
	// is a loopback address (the ping stays in the container).
	if got := d.docker(t, "exec", "c1", "ping", "-c", "1", "-W", "5", "outside.test"); !strings.Contains(got, "(127.0.0.7)") {
		t.Fatalf("ping of an outside name:\n%s", got)
	}

	// Isolation: c3 on another network reaches neither name nor address.
	if out, code := d.dockerCode(t, nil, "exec", "c3", "ping", "-c", "1", "-W", "2", c2IP); code == 0 {
		t.Fatalf("c3 on network other pinged c2 on mynet:\n%s", out)
	}
	// (c2 is no name on c3's network: the upstream answers it, with its
	// loopback address.)
	if out := d.docker(t, "exec", "c3", "ping", "-c", "1", "-W", "2", "c2"); strings.Contains(out, c2IP) {
		t.Fatalf("c3 resolved c2 to its address on mynet:\n%s", out)
	}
	// Connected while running, it does; disconnected, not any more.
	d.docker(t, "network", "connect", "--alias", "three", "mynet", "c3")
	d.docker(t, "exec", "c3", "ping", "-c", "1", "-W", "5", "c2")
	d.docker(t, "exec", "c1", "ping", "-c", "1", "-W", "5", "three")
	d.docker(t, "network", "disconnect", "mynet", "c3")
	if out, code := d.dockerCode(t, nil, "exec", "c3", "ping", "-c", "1", "-W", "2", c2IP); code == 0 {
		t.Fatalf("c3 pinged c2 after disconnect:\n%s", out)
	}
	until := fmt.Sprint(time.Now().Add(time.Second).Unix())
	evs := d.docker(t, "events", "--since", since, "--until", until, "--filter", "type=network", "--filter", "network=mynet",
		"--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}}")
	if want := "create mynet bridge\nconnect mynet bridge\nconnect mynet bridge\nconnect mynet bridge\ndisconnect mynet bridge"; strings.TrimSpace(evs) != want {
		t.Errorf("network events:\n%s\nwant:\n%s", evs, want)
	}
	if out, err := d.dockerErr("network", "rm", "mynet"); err == nil || !strings.Contains(out, "has active endpoints") {
		t.Fatalf("rm of a network in use: %v %s", err, out)
	}
	if got := d.docker(t, "network", "inspect", "-f", "{{len .Containers}}", "mynet"); strings.TrimSpace(got) != "2" {
		t.Fatalf("containers on mynet: %s", got)
	}
	// The address comes back after a restart.
	d.docker(t, "restart", "-t", "0", "c2")
	if got := d.inspectField(t, "c2", "{{.NetworkSettings.Networks.mynet.IPAddress}}"); got != c2IP {
		t.Fatalf("c2 restarted with %s, had %s", got, c2IP)
	}
	d.docker(t, "exec", "c1", "ping", "-c", "1", "-W", "5", "c2")
}

// TestNetworkPublishedPorts: -p and -P to busybox httpd, reached from the
// host's loopback and from another container; a port in use is refused.
func TestNetworkPublishedPorts(t *testing.T) {
	forward := ipForward(t)
	d, bridge := netDaemon(t)
	table := "wharf-" + bridge
	d.removeOnCleanup(t, "web", "all", "client")
	serve := "mkdir -p /www && echo hello-$HOSTNAME > /www/index.html && exec busybox httpd -f -p 8080 -h /www"
	d.docker(t, "run", "-d", "--pull=never", "--name", "web", "--hostname", "web", "-p", "127.0.0.1::8080", "busybox", "sh", "-c", serve)
	d.docker(t, "run", "-d", "--pull=never", "--name", "all", "--hostname", "all", "--expose", "8080", "-P", "busybox", "sh", "-c", serve)

	port := hostPort(t, d, "web", "127.0.0.1")
	poll(t, "wget from the host to 127.0.0.1:"+port, func() bool {
		return strings.TrimSpace(hostWget(t, "http://127.0.0.1:"+port+"/")) == "hello-web"
	})
	allPort := hostPort(t, d, "all", "0.0.0.0")
	poll(t, "wget from the host to the -P port "+allPort, func() bool {
		return strings.TrimSpace(hostWget(t, "http://127.0.0.1:"+allPort+"/")) == "hello-all"
	})
	if got := d.docker(t, "ps", "--filter", "name=all", "--format", "{{.Ports}}"); !strings.Contains(got, ":"+allPort+"->8080/tcp") {
		t.Fatalf("ps ports: %q", got)
	}
	// From another container, through its gateway (the host).
	gw := d.inspectField(t, "all", "{{.NetworkSettings.Networks.bridge.Gateway}}")
	out := d.docker(t, "run", "--rm", "--pull=never", "--name", "client", "busybox", "wget", "-qO-", "http://"+gw+":"+allPort+"/")
	if strings.TrimSpace(out) != "hello-all" {
		t.Fatalf("container -> published port: %q", out)
	}

	// A port held by another program, and one held by a container: dockerd's
	// two messages.
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	out, err = d.dockerErr("run", "--rm", "--pull=never", "-p", "127.0.0.1:"+busy+":80", "busybox", "true")
	if err == nil || !strings.Contains(out, "Error starting userland proxy: listen tcp4 127.0.0.1:"+busy+": bind: address already in use") {
		t.Fatalf("run on a port another program holds: %v %s", err, out)
	}
	out, err = d.dockerErr("run", "--rm", "--pull=never", "-p", "127.0.0.1:"+port+":80", "busybox", "true")
	if err == nil || !strings.Contains(out, "Bind for 127.0.0.1:"+port+" failed: port is already allocated") {
		t.Fatalf("run on a port a container holds: %v %s", err, out)
	}
	out, err = d.dockerErr("run", "--rm", "--pull=never", "--network", "nosuch", "busybox", "true")
	if err == nil || !strings.Contains(out, "network nosuch not found") {
		t.Fatalf("run on an unknown network: %v %s", err, out)
	}

	if fp := footprint(t, table, bridge); len(fp) != 4 { // the bridge, two veths, the table
		t.Errorf("on the host with two containers: %v", fp)
	}
	d.docker(t, "rm", "-f", "web", "all")
	// The host ports are free again.
	for _, p := range []string{"127.0.0.1:" + port, "0.0.0.0:" + allPort} {
		l, err := net.Listen("tcp4", p)
		if err != nil {
			t.Errorf("host port %s still held after rm: %v", p, err)
			continue
		}
		l.Close()
	}
	if fp := footprint(t, table, bridge); len(fp) != 2 { // the bridge and the table stay while the daemon runs
		t.Errorf("on the host after rm: %v", fp)
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	if fp := footprint(t, table, bridge); len(fp) != 0 || ipForward(t) != forward {
		t.Fatalf("left on the host after the daemon stopped: %v, ip_forward %s (was %s)", fp, ipForward(t), forward)
	}
}

// TestNetworkDefaultBridgeNAT: a container on the default bridge reaches a
// server in a namespace wired to the host (a stand-in for the world
// outside, on this machine only) from the host's address: masquerade.
func TestNetworkDefaultBridgeNAT(t *testing.T) {
	target, hostAddr := outsideServer(t)
	d, _ := netDaemon(t)
	out := d.docker(t, "run", "--rm", "--pull=never", "busybox", "wget", "-qO-", "http://"+target+"/")
	if host, _, err := net.SplitHostPort(strings.TrimSpace(out)); err != nil || host != hostAddr {
		t.Fatalf("the outside server saw %q, want the host's %s", out, hostAddr)
	}
	// No name resolution on the default bridge: resolv.conf is the host's.
	if got := d.docker(t, "run", "--rm", "--pull=never", "busybox", "cat", "/etc/resolv.conf"); strings.Contains(got, "127.0.0.11") {
		t.Fatalf("default bridge resolv.conf names the embedded server:\n%s", got)
	}
}

// hostPort is the host port published for the container's 8080/tcp on ip.
func hostPort(t *testing.T, d *daemonProc, name, ip string) string {
	t.Helper()
	out := strings.TrimSpace(d.docker(t, "port", name, "8080/tcp"))
	for _, l := range strings.Split(out, "\n") {
		if h, p, err := net.SplitHostPort(strings.TrimSpace(l)); err == nil && h == ip && p != "0" {
			return p
		}
	}
	t.Fatalf("docker port %s: %q, want a binding on %s", name, out, ip)
	return ""
}

// hostWget is `timeout 5 wget -qO- url` on the host, without proxies.
func hostWget(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "timeout", "5", "wget", "--no-proxy", "-qO-", url)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, _ := cmd.CombinedOutput()
	return string(out)
}
