package engine

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	networktypes "github.com/docker/docker/api/types/network"
	"github.com/google/nftables"
)

// TestNetworkIPv6 drives IPv6 networks with the docker CLI: --ipv6 with a
// subnet picked from fd00::/8 and with one given, containers pinging each
// other by name over IPv6, their addresses in inspect and /etc/hosts,
// dockerd's errors. The network is --internal, so the host's IPv6
// forwarding is never touched here (NAT over IPv6 is tested in
// engine/network, inside namespaces); its table ip6 goes at stop.
func TestNetworkIPv6(t *testing.T) {
	if _, err := os.Stat("/proc/sys/net/ipv6"); err != nil {
		t.Skip("the kernel has no IPv6 (/proc/sys/net/ipv6 missing)")
	}
	forward6 := readProc(t, "/proc/sys/net/ipv6/conf/all/forwarding")
	d, bridge := netDaemon(t)
	table := "wharf-" + bridge
	d.removeOnCleanup(t, "v6a", "v6b", "v6c")
	id := strings.TrimSpace(d.docker(t, "network", "create", "--ipv6", "--internal", "v6auto"))
	d.docker(t, "network", "create", "--ipv6", "--internal", "--subnet", "fd77:7::/64", "--gateway", "fd77:7::fe", "v6set")

	var nets []networktypes.Inspect
	raw := d.docker(t, "network", "inspect", "v6auto", "v6set")
	if err := json.Unmarshal([]byte(raw), &nets); err != nil || len(nets) != 2 {
		t.Fatalf("inspect: %v\n%s", err, raw)
	}
	auto, set := nets[0], nets[1]
	if c := auto.IPAM.Config; !auto.EnableIPv6 || len(c) != 2 || !strings.HasPrefix(c[1].Subnet, "fd") || !strings.HasSuffix(c[1].Subnet, "::/64") {
		t.Fatalf("inspect v6auto: %+v", auto)
	}
	if c := set.IPAM.Config; len(c) != 2 || c[1].Subnet != "fd77:7::/64" || c[1].Gateway != "fd77:7::fe" {
		t.Fatalf("inspect v6set: %+v", set.IPAM)
	}

	d.docker(t, "run", "-d", "--pull=never", "--name", "v6a", "--network", "v6set", "busybox", "sleep", "300")
	d.docker(t, "run", "-d", "--pull=never", "--name", "v6b", "--network", "v6set", "--ip6", "fd77:7::77", "busybox", "sleep", "300")
	if got := d.inspectField(t, "v6b", "{{.NetworkSettings.Networks.v6set.GlobalIPv6Address}}/{{.NetworkSettings.Networks.v6set.GlobalIPv6PrefixLen}}"); got != "fd77:7::77/64" {
		t.Fatalf("v6b's IPv6 address: %q", got)
	}
	a6 := d.inspectField(t, "v6a", "{{.NetworkSettings.Networks.v6set.GlobalIPv6Address}}")
	if !strings.HasPrefix(a6, "fd77:7::") {
		t.Fatalf("v6a's IPv6 address: %q", a6)
	}
	if hosts := d.docker(t, "exec", "v6a", "cat", "/etc/hosts"); !strings.Contains(hosts, a6+"\t") {
		t.Errorf("/etc/hosts of v6a lacks %s:\n%s", a6, hosts)
	}
	if out := d.docker(t, "exec", "v6a", "ip", "-6", "addr", "show", "eth0"); !strings.Contains(out, "inet6 "+a6+"/64") {
		t.Errorf("eth0 of v6a:\n%s", out)
	}
	// An internal network: no default route, of either family.
	for _, fam := range []string{"-4", "-6"} {
		if out := d.docker(t, "exec", "v6a", "ip", fam, "route"); strings.Contains(out, "default") {
			t.Errorf("ip %s route in a container on an internal network:\n%s", fam, out)
		}
	}
	// By name (AAAA from the embedded server) and by address.
	if out := d.docker(t, "exec", "v6a", "ping", "-6", "-c", "1", "-W", "5", "v6b"); !strings.Contains(out, "fd77:7::77") {
		t.Errorf("ping -6 v6b:\n%s", out)
	}
	d.docker(t, "exec", "v6b", "ping", "-c", "1", "-W", "5", a6)
	// The other network is isolated.
	d.docker(t, "run", "-d", "--pull=never", "--name", "v6c", "--network", "v6auto", "busybox", "sleep", "300")
	if out, code := d.dockerCode(t, nil, "exec", "v6c", "ping", "-c", "1", "-W", "2", "fd77:7::77"); code == 0 {
		t.Errorf("v6c on v6auto pinged v6b on v6set:\n%s", out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"network", "create", "--ipv6", "--subnet", "fd77:7::/96", "v6over"}, "Pool overlaps with other one on this address space"},
		{[]string{"network", "create", "--ipv6", "--subnet", "fd78::/64", "--subnet", "fd79::/64", "v6two"}, "bridge driver doesn't support multiple subnets"},
		{[]string{"run", "--rm", "--pull=never", "--network", "v6auto", "--ip6", "fd00::99", "busybox", "true"},
			"user specified IP address is supported only when connecting to networks with user configured subnets"},
	} {
		if out, err := d.dockerErr(c.args...); err == nil || !strings.Contains(out, c.want) {
			t.Errorf("docker %s: %v %q, want %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}

	if !hasTableOf(t, table, nftables.TableFamilyIPv6) {
		t.Errorf("no table ip6 %s with IPv6 networks", table)
	}
	d.docker(t, "rm", "-f", "v6a", "v6b", "v6c")
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	if fp := footprint(t, table, bridge, "br-"+id[:12], "br-"+set.ID[:12]); len(fp) != 0 || hasTableOf(t, table, nftables.TableFamilyIPv6) {
		t.Errorf("left on the host after the daemon stopped: %v (or its table ip6)", fp)
	}
	if got := readProc(t, "/proc/sys/net/ipv6/conf/all/forwarding"); got != forward6 {
		t.Errorf("ipv6 forwarding %s, was %s", got, forward6)
	}
}

// readProc is a /proc file's trimmed content.
func readProc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// hasTableOf reports whether an nftables table of that name and family
// exists.
func hasTableOf(t *testing.T, name string, fam nftables.TableFamily) bool {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := c.ListTableOfFamily(name, fam)
	return err == nil && tb != nil
}
