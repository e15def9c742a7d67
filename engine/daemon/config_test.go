package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "daemon.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileStrictKeys(t *testing.T) {
	p := writeFile(t, `{"data-root": "/x", "bogus": 1, "also-bogus": true}`)
	var c Config
	_, err := LoadFile(p, &c)
	want := "unable to configure the wharf daemon with file " + p + ": the following directives don't match any configuration option: also-bogus, bogus"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	p = writeFile(t, `{"data-root": "/x", "insecure-registries": ["reg:5000"], "shutdown-timeout": 3}`)
	c = Config{LogLevel: "warn"}
	keys, err := LoadFile(p, &c)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataRoot != "/x" || c.InsecureRegistries[0] != "reg:5000" || c.ShutdownTimeout != 3 || c.LogLevel != "warn" || len(keys) != 3 {
		t.Fatalf("loaded %+v keys %v", c, keys)
	}
	if _, err := LoadFile(writeFile(t, `{"data-root": 5}`), &c); err == nil || !strings.Contains(err.Error(), "data-root") {
		t.Fatalf("wrong type: %v", err)
	}
}

func TestConflicts(t *testing.T) {
	keys := map[string]any{"hosts": []any{"tcp://1.2.3.4:2375"}, "data-root": "/x"}
	err := Conflicts("/f.json", keys, func(flag string) (string, bool) {
		if flag == "host" {
			return "[unix:///a.sock]", true
		}
		return "", false
	})
	want := "unable to configure the wharf daemon with file /f.json: the following directives are specified both as a flag and in the configuration file: hosts: (from flag: [unix:///a.sock], from file: [tcp://1.2.3.4:2375])"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v", err)
	}
	if err := Conflicts("/f.json", keys, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	c := Config{}
	if err := c.Validate(); err != nil || c.DataRoot != DefaultDataRoot || c.ExecRoot != DefaultExecRoot || c.ShutdownTimeout != 15 {
		t.Fatalf("defaults: %v %+v", err, c)
	}
	c = Config{TLSVerify: true}
	if _ = c.Validate(); !c.TLS {
		t.Fatal("tlsverify must imply tls")
	}
	for key, bad := range map[string]Config{
		"log-level":           {LogLevel: "loud"},
		"insecure-registries": {InsecureRegistries: []string{"http://x"}},
		"registry-mirrors":    {RegistryMirrors: []string{"mirror.example"}},
		"labels":              {Labels: []string{"novalue"}},
		"hosts":               {Hosts: []string{"/var/run/x.sock"}},
		"shutdown-timeout":    {ShutdownTimeout: -1},
	} {
		if err := bad.Validate(); err == nil || !strings.HasPrefix(err.Error(), key+":") {
			t.Errorf("%s: got %v", key, err)
		}
	}
}

func TestInsecureRegistry(t *testing.T) {
	c := Config{InsecureRegistries: []string{"10.0.0.0/8", "myreg:5000"}}
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "localhost:5000": true, "10.1.2.3": true, "myreg:5000": true,
		"myreg:5001": false, "registry-1.docker.io": false, "192.168.1.1:5000": false,
	} {
		if got := c.InsecureRegistry(host); got != want {
			t.Errorf("%s: %v, want %v", host, got, want)
		}
	}
}

// Values bound to flags must not be overwritten through shared slices.
func TestLoadFileLeavesCallerSlices(t *testing.T) {
	flagHosts := []string{"unix:///flag.sock"}
	c := Config{Hosts: flagHosts}
	if _, err := LoadFile(writeFile(t, `{"hosts": ["unix:///file.sock"]}`), &c); err != nil {
		t.Fatal(err)
	}
	if flagHosts[0] != "unix:///flag.sock" || c.Hosts[0] != "unix:///file.sock" {
		t.Fatalf("flag slice %v, config %v", flagHosts, c.Hosts)
	}
}
