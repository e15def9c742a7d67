package engine

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNetworkContainerMode: --network container:<name> joins a running
// container's namespace (its loopback, addresses and embedded DNS), takes
// its hostname and shares its /etc files; what cannot apply is refused
// with dockerd's statuses and messages.
func TestNetworkContainerMode(t *testing.T) {
	d, _ := netDaemon(t)
	d.removeOnCleanup(t, "tgt", "peer", "joiner", "stopped", "late", "self", "nosuchjoin")
	d.docker(t, "network", "create", "cmnet")
	serve := "mkdir -p /www && echo hello-$HOSTNAME > /www/index.html && exec busybox httpd -f -p 127.0.0.1:8080 -h /www"
	tgtID := strings.TrimSpace(d.docker(t, "run", "-d", "--pull=never", "--name", "tgt", "--hostname", "tgthost", "--network", "cmnet",
		"busybox", "sh", "-c", serve))
	d.docker(t, "run", "-d", "--pull=never", "--name", "peer", "--network", "cmnet", "busybox", "sleep", "300")
	d.docker(t, "run", "-d", "--pull=never", "--name", "joiner", "--network", "container:tgt", "busybox", "sleep", "300")

	// The same loopback: the target's server on 127.0.0.1 answers.
	poll(t, "wget from the joiner to the target's loopback server", func() bool {
		out, _ := d.dockerErr("exec", "joiner", "wget", "-qO-", "http://127.0.0.1:8080/")
		return strings.TrimSpace(out) == "hello-tgthost"
	})
	tgtIP := d.inspectField(t, "tgt", "{{.NetworkSettings.Networks.cmnet.IPAddress}}")
	if out := d.docker(t, "exec", "joiner", "ip", "-4", "addr", "show", "eth0"); !strings.Contains(out, "inet "+tgtIP+"/") {
		t.Fatalf("the joiner's eth0 is not the target's (%s):\n%s", tgtIP, out)
	}
	// Names on the target's network resolve (its embedded DNS server).
	d.docker(t, "exec", "joiner", "ping", "-c", "1", "-W", "5", "peer")
	if got := strings.TrimSpace(d.docker(t, "exec", "joiner", "hostname")); got != "tgthost" {
		t.Fatalf("hostname in the joiner: %q", got)
	}
	for _, f := range []string{"/etc/hosts", "/etc/resolv.conf", "/etc/hostname"} {
		if a, b := d.docker(t, "exec", "tgt", "cat", f), d.docker(t, "exec", "joiner", "cat", f); a != b {
			t.Errorf("%s differs:\ntarget:\n%s\njoiner:\n%s", f, a, b)
		}
	}
	if got := d.inspectField(t, "joiner", "{{.HostConfig.NetworkMode}} {{.Config.Hostname}} {{len .NetworkSettings.Networks}} {{.HostsPath}}"); got != "container:"+tgtID+" tgthost 0 "+d.inspectField(t, "tgt", "{{.HostsPath}}") {
		t.Fatalf("inspect of the joiner: %q", got)
	}
	if out, err := d.dockerErr("network", "connect", "cmnet", "joiner"); err == nil ||
		!strings.Contains(out, "container sharing network namespace with another container or host cannot be connected to any other network") {
		t.Fatalf("connect of a joiner: %v %s", err, out)
	}

	// Targets that cannot be joined, and options that cannot apply.
	d.docker(t, "create", "--pull=never", "--name", "stopped", "--network", "none", "busybox", "true")
	stoppedID := d.inspectField(t, "stopped", "{{.Id}}")
	create := func(name, mode string, extra map[string]any) response {
		body := map[string]any{"Image": "busybox", "Cmd": []string{"true"}, "HostConfig": map[string]any{"NetworkMode": mode}}
		for k, v := range extra {
			body[k] = v
		}
		return d.do(t, "POST", "/containers/create?name="+name, map[string]string{"Content-Type": "application/json"}, strings.NewReader(jsonOf(t, body)))
	}
	if r := create("late", "container:stopped", nil); r.Status != 201 {
		t.Fatalf("create on a stopped container: %d %s", r.Status, r.Body)
	}
	if got := d.inspectField(t, "late", "{{.HostConfig.NetworkMode}}"); got != "container:"+stoppedID {
		t.Errorf("network mode recorded %q, want the target's full ID", got)
	}
	create("self", "container:self", nil)
	create("nosuchjoin", "container:nosuch", nil)
	for _, c := range []struct {
		name   string
		status int
		msg    string
	}{
		{"late", 409, "cannot join network of a non running container: " + stoppedID},
		{"nosuchjoin", 404, "No such container: nosuch"},
		{"self", 500, "cannot join own network"},
	} {
		r := d.do(t, "POST", "/containers/"+c.name+"/start", nil, nil)
		if r.Status != c.status || !strings.Contains(r.Body, `"message":"`+c.msg+`"`) {
			t.Errorf("start %s: %d %s, want %d %q", c.name, r.Status, r.Body, c.status, c.msg)
		}
	}
	for _, c := range []struct {
		mode  string
		extra map[string]any
		msg   string
	}{
		{"container:", nil, "Invalid network mode: invalid container format container:<name|id>"},
		{"container:tgt", map[string]any{"Hostname": "x"}, "conflicting options: hostname and the network mode"},
		{"container:tgt", map[string]any{"MacAddress": "02:42:00:00:00:01"}, "conflicting options: mac-address and the network mode"},
		{"container:tgt", map[string]any{"ExposedPorts": map[string]any{"80/tcp": map[string]any{}}}, "conflicting options: port exposing and the container type network mode"},
	} {
		r := create("bad", c.mode, c.extra)
		if r.Status != 400 || !strings.Contains(r.Body, c.msg) {
			t.Errorf("create %s %v: %d %s, want 400 %q", c.mode, c.extra, r.Status, r.Body, c.msg)
		}
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--dns", "127.0.0.1"}, "conflicting options: dns and the network mode"},
		{[]string{"--add-host", "a:127.0.0.1"}, "conflicting options: custom host-to-IP mapping and the network mode"},
		{[]string{"-p", "8080"}, "conflicting options: port publishing and the container type network mode"},
		{[]string{"--link", "tgt:x"}, "conflicting options: container type network can't be used with links"},
	} {
		args := append(append([]string{"run", "--rm", "--pull=never", "--network", "container:tgt"}, c.args...), "busybox", "true")
		if out, code := d.dockerCode(t, nil, args...); code != 125 || !strings.Contains(out, c.msg) {
			t.Errorf("docker %s: exit %d %s, want 125 and %q", strings.Join(args, " "), code, out, c.msg)
		}
	}

	// The joiner keeps the namespace while the target is gone; once both
	// are removed nothing of them is left on the daemon's bridge.
	d.docker(t, "rm", "-f", "tgt")
	if out := d.docker(t, "exec", "joiner", "ip", "-o", "link"); strings.Contains(out, "eth0") {
		t.Errorf("eth0 still in the joiner after the target left:\n%s", out)
	}
	d.docker(t, "rm", "-f", "joiner")
}

// jsonOf is v as JSON.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
