package engine

import (
	"strings"
	"testing"
)

// TestNetworkLinks: --link on the default bridge puts the linked
// container in /etc/hosts under its alias, hostname and name (reached with
// wget by the alias); the top-level NetworkSettings fields show the default
// bridge's endpoint; bad links are refused with dockerd's messages.
func TestNetworkLinks(t *testing.T) {
	d, _ := netDaemon(t)
	d.removeOnCleanup(t, "db", "dbstopped", "hostc")
	serve := "mkdir -p /www && echo hello-db > /www/index.html && exec busybox httpd -f -p 8080 -h /www"
	d.docker(t, "run", "-d", "--pull=never", "--name", "db", "--hostname", "dbhost", "busybox", "sh", "-c", serve)
	ip := d.inspectField(t, "db", "{{.NetworkSettings.Networks.bridge.IPAddress}}")
	if got := d.inspectField(t, "db", "{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.MacAddress}}"); got !=
		ip+" "+d.inspectField(t, "db", "{{.NetworkSettings.Networks.bridge.Gateway}} {{.NetworkSettings.Networks.bridge.MacAddress}}") || ip == "" {
		t.Fatalf("top-level network settings of db: %q (bridge address %s)", got, ip)
	}

	out := d.docker(t, "run", "--rm", "--pull=never", "--link", "db:database", "busybox", "sh", "-c",
		"cat /etc/hosts; for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://database:8080/ && exit 0; sleep 0.5; done; exit 1")
	if !strings.Contains(out, ip+"\tdatabase dbhost db\n") || !strings.Contains(out, "hello-db") {
		t.Fatalf("--link db:database:\n%s", out)
	}
	if out := d.docker(t, "run", "--rm", "--pull=never", "--link", "db", "busybox", "cat", "/etc/hosts"); !strings.Contains(out, ip+"\tdb dbhost\n") {
		t.Fatalf("--link db:\n%s", out)
	}

	d.docker(t, "create", "--pull=never", "--name", "dbstopped", "busybox", "true")
	d.docker(t, "create", "--pull=never", "--name", "hostc", "--network", "host", "busybox", "true")
	for _, c := range []struct {
		link, msg string
	}{
		{"nosuch:x", "could not get container for nosuch: No such container: nosuch"},
		{"hostc", "conflicting options: host type networking can't be used with links. This would result in undefined behavior"},
		{"dbstopped:old", "Cannot link to a non running container: /dbstopped AS /"},
	} {
		if out, code := d.dockerCode(t, nil, "run", "--rm", "--pull=never", "--link", c.link, "busybox", "true"); code != 125 || !strings.Contains(out, c.msg) {
			t.Errorf("--link %s: exit %d %s, want 125 and %q", c.link, code, out, c.msg)
		}
	}
}
