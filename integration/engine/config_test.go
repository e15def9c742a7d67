package engine

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeDaemonJSON(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "daemon.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// daemon.json: unknown keys and keys also given as flags stop the daemon
// before it listens, with dockerd's messages.
func TestDaemonJSONRefused(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "x.sock")
	base := []string{"daemon", "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "pid")}
	unknown := writeDaemonJSON(t, `{"data-root": "/x", "storage-opts": [], "fixed-cidr": "10.0.0.0/24"}`)
	out, err := runWharf(t, append(base, "-H", "unix://"+sock, "--config-file", unknown)...)
	if err == nil || !strings.Contains(out, "unable to configure the wharf daemon with file "+unknown+
		": the following directives don't match any configuration option: fixed-cidr, storage-opts") {
		t.Fatalf("unknown keys: %v\n%s", err, out)
	}
	both := writeDaemonJSON(t, `{"hosts": ["unix:///tmp/other.sock"]}`)
	out, err = runWharf(t, append(base, "-H", "unix://"+sock, "--config-file", both)...)
	if err == nil || !strings.Contains(out, "the following directives are specified both as a flag and in the configuration file: hosts: (from flag: [unix://"+sock+"], from file: [unix:///tmp/other.sock])") {
		t.Fatalf("conflict: %v\n%s", err, out)
	}
	bad := writeDaemonJSON(t, `{"log-level": "loud"}`)
	out, err = runWharf(t, append(base, "-H", "unix://"+sock, "--config-file", bad)...)
	if err == nil || !strings.Contains(out, "log-level: unable to parse logging level: loud") {
		t.Fatalf("bad value: %v\n%s", err, out)
	}
	out, err = runWharf(t, append(base, "-H", "unix://"+sock, "--config-file", filepath.Join(dir, "missing.json"))...)
	if err == nil || !strings.Contains(out, "no such file or directory") {
		t.Fatalf("missing explicit file: %v\n%s", err, out)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket made by a daemon that refused its config: %v", err)
	}
}

// Settings from daemon.json take effect: hosts, labels, insecure registries,
// mirrors, the socket group.
func TestDaemonJSONApplied(t *testing.T) {
	d := startDaemonWith(t, daemonOptions{NoHosts: true, DaemonJSON: func(dir string) string {
		return `{
			"hosts": ["unix://` + dir + `/d.sock"],
			"labels": ["a=b"],
			"group": "4242",
			"insecure-registries": ["myreg:5000", "10.0.0.0/8"],
			"registry-mirrors": ["https://mirror.example"],
			"api-cors-header": "*"
		}`
	}})
	sock := d.Sock
	st, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	// Only root can give the socket to another group.
	if gid := st.Sys().(*syscall.Stat_t).Gid; (os.Geteuid() == 0 && gid != 4242) || st.Mode().Perm() != 0o660 {
		t.Fatalf("socket group %d mode %v, want 4242 0660", gid, st.Mode().Perm())
	}
	info, err := d.client(t).Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rc := info.RegistryConfig
	if len(info.Labels) != 1 || info.Labels[0] != "a=b" || len(rc.Mirrors) != 1 || rc.Mirrors[0] != "https://mirror.example" ||
		len(rc.InsecureRegistryCIDRs) != 2 || rc.IndexConfigs["myreg:5000"] == nil || rc.IndexConfigs["myreg:5000"].Secure {
		t.Fatalf("info: labels %v registry %+v", info.Labels, rc)
	}
	if r := d.do(t, "GET", "/_ping", nil, nil); r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("cors header: %v", r.Header)
	}
}
