package engine

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

// TestNetworkRunDNSOptions: --dns-search, --dns-option, --dns and
// --add-host (host-gateway too) reach the container's resolv.conf and
// /etc/hosts on the default bridge and on a user network (where the
// embedded server is the nameserver, with dockerd's ndots:0), and the
// names added resolve in the container.
func TestNetworkRunDNSOptions(t *testing.T) {
	d, _ := netDaemon(t)
	d.docker(t, "network", "create", "optnet")
	gw := strings.TrimSpace(d.docker(t, "network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "bridge"))
	opts := []string{"--dns-search", "a.test", "--dns-search", "b.test", "--dns-option", "timeout:3",
		"--add-host", "extra.test:127.0.0.5", "--add-host", "six.test:[::1]", "--add-host", "gw.test:host-gateway"}
	show := "cat /etc/resolv.conf; echo =====; cat /etc/hosts; echo =====; ping -c 1 -W 5 extra.test"

	out := d.docker(t, append(append([]string{"run", "--rm", "--pull=never", "--dns", "127.0.0.53"}, opts...), "busybox", "sh", "-c", show)...)
	resolv, hosts, ping := splitThree(t, out)
	for _, want := range []string{"nameserver 127.0.0.53\n", "search a.test b.test\n", "options timeout:3\n"} {
		if !strings.Contains(resolv, want) {
			t.Errorf("default bridge: resolv.conf lacks %q:\n%s", want, resolv)
		}
	}
	for _, want := range []string{"127.0.0.5\textra.test\n", "::1\tsix.test\n", gw + "\tgw.test\n"} {
		if !strings.Contains(hosts, want) {
			t.Errorf("default bridge: /etc/hosts lacks %q:\n%s", want, hosts)
		}
	}
	if !strings.Contains(ping, "(127.0.0.5)") {
		t.Errorf("default bridge: ping extra.test:\n%s", ping)
	}

	out = d.docker(t, append(append([]string{"run", "--rm", "--pull=never", "--network", "optnet"}, opts...), "busybox", "sh", "-c", show)...)
	resolv, hosts, ping = splitThree(t, out)
	if got, want := resolv, "nameserver 127.0.0.11\nsearch a.test b.test\noptions timeout:3 ndots:0\n"; !strings.HasSuffix(got, want) || strings.Count(got, "nameserver") != 1 {
		t.Errorf("user network: resolv.conf\n%s\nwant it to end with\n%s", got, want)
	}
	if !strings.Contains(hosts, "127.0.0.5\textra.test\n") || !strings.Contains(hosts, gw+"\tgw.test\n") {
		t.Errorf("user network: /etc/hosts:\n%s", hosts)
	}
	if !strings.Contains(ping, "(127.0.0.5)") {
		t.Errorf("user network: ping extra.test:\n%s", ping)
	}
	// A given ndots is kept, and no ndots:0 added.
	out = d.docker(t, "run", "--rm", "--pull=never", "--network", "optnet", "--dns-option", "ndots:3", "busybox", "cat", "/etc/resolv.conf")
	if !strings.Contains(out, "options ndots:3\n") || strings.Contains(out, "ndots:0") {
		t.Errorf("user network with --dns-option ndots:3: resolv.conf\n%s", out)
	}
}

// splitThree cuts a container's output at its "=====" lines.
func splitThree(t *testing.T, out string) (string, string, string) {
	t.Helper()
	parts := strings.Split(out, "=====\n")
	if len(parts) != 3 {
		t.Fatalf("output in %d parts:\n%s", len(parts), out)
	}
	return parts[0], parts[1], parts[2]
}

// TestNetworkPortRanges: -p with ranges: host range to container range
// (one binding per port, each answering), and a host range for one port
// taking the first free one.
func TestNetworkPortRanges(t *testing.T) {
	d, _ := netDaemon(t)
	d.removeOnCleanup(t, "ranges", "onefree")
	base := freePortRun(t, 3)
	spec := fmt.Sprintf("127.0.0.1:%d-%d:8080-8082", base, base+2)
	serve := "mkdir -p /www && echo hello > /www/index.html && busybox httpd -p 8080 -h /www && busybox httpd -p 8081 -h /www && exec busybox httpd -f -p 8082 -h /www"
	d.docker(t, "run", "-d", "--pull=never", "--name", "ranges", "-p", spec, "busybox", "sh", "-c", serve)
	for i := range 3 {
		if got := strings.TrimSpace(d.docker(t, "port", "ranges", fmt.Sprintf("%d/tcp", 8080+i))); got != fmt.Sprintf("127.0.0.1:%d", base+i) {
			t.Fatalf("docker port ranges %d: %q", 8080+i, got)
		}
		url := fmt.Sprintf("http://127.0.0.1:%d/", base+i)
		poll(t, "wget "+url, func() bool { return strings.TrimSpace(hostWget(t, url)) == "hello" })
	}

	// The first port of the range is held by someone else: the next.
	base2 := freePortRun(t, 2)
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", base2))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d.docker(t, "run", "-d", "--pull=never", "--name", "onefree", "-p", fmt.Sprintf("127.0.0.1:%d-%d:8080", base2, base2+1), "busybox", "sleep", "300")
	if got := strings.TrimSpace(d.docker(t, "port", "onefree", "8080/tcp")); got != fmt.Sprintf("127.0.0.1:%d", base2+1) {
		t.Fatalf("docker port onefree: %q, want the range's second port", got)
	}
	// Both taken now: dockerd's message.
	out, err := d.dockerErr("run", "--rm", "--pull=never", "-p", fmt.Sprintf("127.0.0.1:%d-%d:8080", base2, base2+1), "busybox", "true")
	if want := "all ports are allocated"; err == nil || !strings.Contains(out, want) {
		t.Fatalf("run on a taken range: %v %s, want %q", err, out, want)
	}
}

// freePortRun finds n consecutive TCP ports free on 127.0.0.1 (the first
// picked by the kernel, the others checked by binding them).
func freePortRun(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		ok := base+n-1 <= 65535
		var held []net.Listener
		for i := 1; ok && i < n; i++ {
			m, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				ok = false
				break
			}
			held = append(held, m)
		}
		l.Close()
		for _, m := range held {
			m.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}
