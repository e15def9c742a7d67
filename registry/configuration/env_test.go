package configuration

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const fsBase = "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\n  delete:\n    enabled: false\nhttp:\n  addr: :5000\n  headers:\n    X-Content-Type-Options: [nosniff]\n"

func TestEnvOverrides(t *testing.T) {
	for _, tc := range []struct {
		name  string
		yaml  string
		env   []string
		check func(*Configuration) bool
	}{
		{"addr", fsBase, []string{"REGISTRY_HTTP_ADDR=:6000"},
			func(c *Configuration) bool { return c.HTTP.Addr == ":6000" }},
		{"rootdirectory", fsBase, []string{"REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/x"},
			func(c *Configuration) bool { return c.Storage.Params["rootdirectory"] == "/x" }},
		{"log level", fsBase, []string{"REGISTRY_LOG_LEVEL=debug"},
			func(c *Configuration) bool { return c.Log.Level == "debug" }},
		{"bool", fsBase, []string{"REGISTRY_STORAGE_DELETE_ENABLED=true"},
			func(c *Configuration) bool { return c.Storage.Delete.Enabled }},
		{"switch driver, then set inside storage", fsBase,
			// given out of order: names apply sorted, the section first
			[]string{"REGISTRY_STORAGE_DELETE_ENABLED=true", "REGISTRY_STORAGE=inmemory"},
			func(c *Configuration) bool {
				return c.Storage.Driver == "inmemory" && len(c.Storage.Params) == 0 && c.Storage.Delete.Enabled
			}},
		{"switch driver to filesystem with a root", base,
			[]string{"REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/data", "REGISTRY_STORAGE=filesystem"},
			func(c *Configuration) bool {
				return c.Storage.Driver == "filesystem" && c.Storage.Params["rootdirectory"] == "/data"
			}},
		{"driver on an empty file", "version: 0.1\n", []string{"REGISTRY_STORAGE=inmemory"},
			func(c *Configuration) bool { return c.Storage.Driver == "inmemory" }},
		{"header matched case-insensitively", fsBase, []string{"REGISTRY_HTTP_HEADERS_X-CONTENT-TYPE-OPTIONS=[sniff]"},
			func(c *Configuration) bool {
				return reflect.DeepEqual(c.HTTP.Headers["X-Content-Type-Options"], []string{"sniff"})
			}},
		{"new header", fsBase, []string{"REGISTRY_HTTP_HEADERS_X-FRAME-OPTIONS=[DENY]"},
			func(c *Configuration) bool {
				return c.HTTP.Headers.Get("X-Frame-Options") == "DENY" && c.HTTP.Headers.Get("X-Content-Type-Options") == "nosniff"
			}},
		{"tls with list index", fsBase, []string{
			"REGISTRY_HTTP_TLS_CERTIFICATE=/c", "REGISTRY_HTTP_TLS_KEY=/k",
			"REGISTRY_HTTP_TLS_CLIENTCAS_0=/ca0", "REGISTRY_HTTP_TLS_CLIENTCAS_1=/ca1"},
			func(c *Configuration) bool {
				return c.HTTP.TLS.Certificate == "/c" && c.HTTP.TLS.Key == "/k" &&
					reflect.DeepEqual(c.HTTP.TLS.ClientCAs, []string{"/ca0", "/ca1"})
			}},
		{"list index replaces", fsBase + "  tls:\n    certificate: /c\n    key: /k\n    clientcas: [/a, /b]\n",
			[]string{"REGISTRY_HTTP_TLS_CLIENTCAS_1=/z"},
			func(c *Configuration) bool { return reflect.DeepEqual(c.HTTP.TLS.ClientCAs, []string{"/a", "/z"}) }},
		{"whole list as yaml", fsBase + "  tls:\n    certificate: /c\n    key: /k\n",
			[]string{"REGISTRY_HTTP_TLS_CLIENTCAS=[/a, /b]"},
			func(c *Configuration) bool { return reflect.DeepEqual(c.HTTP.TLS.ClientCAs, []string{"/a", "/b"}) }},
		{"htpasswd", fsBase, []string{"REGISTRY_AUTH=htpasswd", "REGISTRY_AUTH_HTPASSWD_REALM=Registry Realm",
			"REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd"},
			func(c *Configuration) bool {
				a := c.Auth.Htpasswd
				return a != nil && a.Realm == "Registry Realm" && a.Path == "/auth/htpasswd"
			}},
		{"durations and ints", fsBase, []string{"REGISTRY_HEALTH_STORAGEDRIVER_ENABLED=true",
			"REGISTRY_HEALTH_STORAGEDRIVER_INTERVAL=5s", "REGISTRY_HEALTH_STORAGEDRIVER_THRESHOLD=7",
			"REGISTRY_HTTP_DRAINTIMEOUT=2000000000"},
			func(c *Configuration) bool {
				s := c.Health.StorageDriver
				return s.Enabled && s.Interval == 5*time.Second && s.Threshold == 7 && c.HTTP.DrainTimeout == 2*time.Second
			}},
		{"empty value is zero", fsBase + "  secret: s3cr3t\n", []string{"REGISTRY_HTTP_SECRET="},
			func(c *Configuration) bool { return c.HTTP.Secret == "" }},
		{"value with equals sign", fsBase, []string{"REGISTRY_HTTP_SECRET=a=b"},
			func(c *Configuration) bool { return c.HTTP.Secret == "a=b" }},
		{"nested maintenance", fsBase, []string{"REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED=true",
			"REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_ENABLED=false"},
			func(c *Configuration) bool {
				m := c.Storage.Maintenance
				return m.ReadOnly.Enabled && !m.UploadPurging.Enabled
			}},
		{"other variables untouched", fsBase, []string{"HOME=/root", "registry_http_addr=:1", "XREGISTRY_HTTP_ADDR=:2", "REGISTRY_=x"},
			func(c *Configuration) bool { return c.HTTP.Addr == ":5000" && len(c.Warnings) == 0 }},
		{"service discovery variables ignored", fsBase, []string{
			"REGISTRY_PORT=tcp://10.0.0.1:5000", "REGISTRY_PORT_5000_TCP_ADDR=10.0.0.1",
			"REGISTRY_SERVICE_HOST=10.0.0.1", "REGISTRY_DOCKER_REGISTRY_SERVICE_PORT=5000"},
			func(c *Configuration) bool {
				return len(c.Warnings) == 4 && strings.HasPrefix(c.Warnings[0], "REGISTRY_DOCKER_REGISTRY_SERVICE_PORT: ")
			}},
		{"ignored section set from env", fsBase, []string{"REGISTRY_NOTIFICATIONS_ENDPOINTS_0_NAME=listener"},
			func(c *Configuration) bool {
				return len(c.Warnings) == 1 && strings.HasPrefix(c.Warnings[0], "notifications: ")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c := mustParse(t, tc.yaml, tc.env...); !tc.check(c) {
				t.Fatalf("unexpected result %+v", c)
			}
		})
	}
}

// TestEnvDoesNotLeakBetweenParses guards the node rewriting: overrides
// change only the tree of the parse they were given to.
func TestEnvDoesNotLeakBetweenParses(t *testing.T) {
	mustParse(t, fsBase, "REGISTRY_HTTP_ADDR=:6000")
	if c := mustParse(t, fsBase); c.HTTP.Addr != ":5000" {
		t.Fatalf("addr %q", c.HTTP.Addr)
	}
	mustParse(t, string(DefaultYAML), "REGISTRY_STORAGE=inmemory")
	if c := Default(); c.Storage.Driver != "filesystem" {
		t.Fatalf("driver %q", c.Storage.Driver)
	}
}

// TestParseUsesProcessEnvironment checks that Parse reads os.Environ.
func TestParseUsesProcessEnvironment(t *testing.T) {
	t.Setenv("REGISTRY_HTTP_ADDR", "127.0.0.1:7000")
	c, err := Parse(strings.NewReader(fsBase))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "127.0.0.1:7000" {
		t.Fatalf("addr %q", c.HTTP.Addr)
	}
}
