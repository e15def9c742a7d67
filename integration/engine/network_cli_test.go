package engine

import (
	"encoding/json"
	"strings"
	"testing"

	networktypes "github.com/docker/docker/api/types/network"
	"github.com/vishvananda/netlink"
)

// TestNetworkCLI drives docker network create/ls/inspect/rm/prune and
// dockerd's errors, then checks the host is as before once the daemon
// has stopped.
func TestNetworkCLI(t *testing.T) {
	forward := ipForward(t)
	d, bridge := netDaemon(t)
	table := "wharf-" + bridge
	bridges := []string{bridge}

	if got := d.docker(t, "network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"); strings.Join(lines(got), ",") != "bridge bridge local,host host local,none null local" {
		t.Fatalf("ls: %q", got)
	}
	id := strings.TrimSpace(d.docker(t, "network", "create", "mynet"))
	if len(id) != 64 {
		t.Fatalf("create printed %q", id)
	}
	d.docker(t, "network", "create", "--subnet", "10.123.0.0/16", "--ip-range", "10.123.7.0/24", "--gateway", "10.123.0.254",
		"--internal", "--label", "team=a", "-o", "com.docker.network.driver.mtu=1400", "fixed")

	var nets []networktypes.Inspect
	raw := d.docker(t, "network", "inspect", "fixed", "mynet")
	if err := json.Unmarshal([]byte(raw), &nets); err != nil || len(nets) != 2 {
		t.Fatalf("inspect: %v\n%s", err, raw)
	}
	fx, my := nets[0], nets[1]
	if c := fx.IPAM.Config; len(c) != 1 || c[0].Subnet != "10.123.0.0/16" || c[0].IPRange != "10.123.7.0/24" || c[0].Gateway != "10.123.0.254" ||
		!fx.Internal || fx.Labels["team"] != "a" || fx.Options["com.docker.network.driver.mtu"] != "1400" || fx.Driver != "bridge" || fx.Scope != "local" {
		t.Fatalf("inspect fixed: %+v", fx)
	}
	if my.ID != id || len(my.IPAM.Config) != 1 || my.IPAM.Config[0].Subnet == "" || my.IPAM.Driver != "default" {
		t.Fatalf("inspect mynet: %+v", my)
	}
	// Its bridge is on the host with the gateway address; the daemon's
	// table exists now, under its own name.
	bridges = append(bridges, "br-"+id[:12], "br-"+fx.ID[:12])
	if fp := footprint(t, table, bridges...); strings.Join(fp, ",") != strings.Join(lines("bridge br-"+fx.ID[:12]+"\nbridge br-"+id[:12]+"\ntable "+table), ",") {
		t.Fatalf("on the host: %v", fp)
	}
	link, err := netlink.LinkByName("br-" + id[:12])
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 || addrs[0].IP.String() != my.IPAM.Config[0].Gateway {
		t.Fatalf("addresses of br-%s: %v %v, want the gateway %s", id[:12], addrs, err, my.IPAM.Config[0].Gateway)
	}
	if got := d.docker(t, "network", "ls", "-q", "--no-trunc", "--filter", "label=team=a"); strings.TrimSpace(got) != fx.ID {
		t.Fatalf("ls label: %q", got)
	}
	if got := d.docker(t, "network", "ls", "--format", "{{.Name}}", "--filter", "type=custom"); strings.Join(lines(got), ",") != "fixed,mynet" {
		t.Fatalf("ls type=custom: %q", got)
	}
	if got := d.docker(t, "network", "inspect", "-f", "{{.Name}}", id[:5]); strings.TrimSpace(got) != "mynet" {
		t.Fatalf("inspect by ID prefix: %q", got)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"network", "create", "mynet"}, "network with name mynet already exists"},
		{[]string{"network", "create", "--subnet", "10.123.5.0/24", "overlap"}, "Pool overlaps with other one on this address space"},
		{[]string{"network", "create", "-d", "overlay", "ov"}, "plugin not found"},
		{[]string{"network", "create", "--subnet", "nonsense", "badsubnet"}, "invalid"},
		{[]string{"network", "rm", "bridge"}, "bridge is a pre-defined network and cannot be removed"},
		{[]string{"network", "rm", "nosuch"}, "network nosuch not found"},
		{[]string{"network", "inspect", "nosuch"}, "network nosuch not found"},
		{[]string{"network", "ls", "--filter", "color=red"}, "invalid filter 'color'"},
	} {
		out, err := d.dockerErr(c.args...)
		if err == nil || !strings.Contains(out, c.want) {
			t.Errorf("docker %s: %v %q, want an error with %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
	// Status codes, as dockerd's.
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/networks/create", `{"Name":"mynet"}`, 409},
		{"DELETE", "/networks/host", "", 403},
		{"GET", "/networks/nosuch", "", 404},
		{"POST", "/networks/create", `{"Name":"ov","Driver":"overlay"}`, 404},
		{"POST", "/networks/create", `{"Name":"x","IPAM":{"Config":[{"Subnet":"10.123.1.0/24"}]}}`, 403},
		{"POST", "/networks/create", `{"Name":"x","IPAM":{"Config":[{"Subnet":"10.124.0.0/16","Gateway":"10.125.0.1"}]}}`, 400},
		{"POST", "/networks/create", `{"Name":"x","Driver":"host"}`, 403},
	} {
		r := d.do(t, c.method, c.path, map[string]string{"Content-Type": "application/json"}, strings.NewReader(c.body))
		if r.Status != c.status || !strings.Contains(r.Body, `"message"`) {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, r.Status, r.Body, c.status)
		}
	}

	if got := d.docker(t, "network", "rm", "fixed"); strings.TrimSpace(got) != "fixed" {
		t.Fatalf("rm: %q", got)
	}
	spare := strings.TrimSpace(d.docker(t, "network", "create", "spare"))
	bridges = append(bridges, "br-"+spare[:12])
	out := d.docker(t, "network", "prune", "-f")
	if !strings.Contains(out, "mynet") || !strings.Contains(out, "spare") {
		t.Fatalf("prune: %q", out)
	}
	if got := d.docker(t, "network", "ls", "--format", "{{.Name}}"); strings.Join(lines(got), ",") != "bridge,host,none" {
		t.Fatalf("after prune: %q", got)
	}
	leftover := strings.TrimSpace(d.docker(t, "network", "create", "leftover")) // the daemon takes its bridge down at stop
	bridges = append(bridges, "br-"+leftover[:12])
	if fp := footprint(t, table, bridges...); len(fp) != 2 {
		t.Fatalf("on the host with one network: %v", fp)
	}

	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	if fp := footprint(t, table, bridges...); len(fp) != 0 || ipForward(t) != forward {
		t.Fatalf("left on the host after the daemon stopped: %v, ip_forward %s (was %s)", fp, ipForward(t), forward)
	}
}
