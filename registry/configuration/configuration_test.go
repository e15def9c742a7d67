package configuration

import (
	"bytes"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, yml string, env ...string) *Configuration {
	t.Helper()
	c, err := ParseWithEnv(strings.NewReader(yml), env)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, yml)
	}
	return c
}

func TestDefaultsOfMinimalConfig(t *testing.T) {
	c := mustParse(t, "version: 0.1\nstorage: filesystem\n")
	if c.Version != "0.1" || c.Log.Level != "info" || c.Log.Formatter != "text" {
		t.Errorf("log: %+v", c.Log)
	}
	if c.Storage.Driver != "filesystem" || c.Storage.Params["rootdirectory"] != "/var/lib/registry" {
		t.Errorf("storage: %s %v", c.Storage.Driver, c.Storage.Params)
	}
	p := c.Storage.Maintenance.UploadPurging
	if !p.Enabled || p.Age != 168*time.Hour || p.Interval != 24*time.Hour || p.DryRun {
		t.Errorf("upload purging: %+v", p)
	}
	if c.Storage.Delete.Enabled || c.Storage.Redirect.Disable || c.Storage.Maintenance.ReadOnly.Enabled {
		t.Errorf("storage flags: %+v", c.Storage)
	}
	h := c.HTTP
	if h.Addr != ":5000" || h.Net != "tcp" || h.Prefix != "" || h.DrainTimeout != 30*time.Second || h.TLS.MinimumTLS != "" {
		t.Errorf("http: %+v", h)
	}
	if c.Health.StorageDriver.Enabled || c.Health.StorageDriver.Interval != 0 || c.Auth.Htpasswd != nil {
		t.Errorf("health %+v auth %+v", c.Health, c.Auth)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %q", c.Warnings)
	}
}

func TestParseValues(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		check      func(*Configuration) bool
	}{
		{"duration string", base + "http:\n  draintimeout: 1m30s\n",
			func(c *Configuration) bool { return c.HTTP.DrainTimeout == 90*time.Second }},
		{"duration integer is nanoseconds", base + "http:\n  draintimeout: 1500000000\n",
			func(c *Configuration) bool { return c.HTTP.DrainTimeout == 1500*time.Millisecond }},
		{"explicit zero drain timeout", base + "http:\n  draintimeout: 0\n",
			func(c *Configuration) bool { return c.HTTP.DrainTimeout == 0 }},
		{"yaml 1.1 booleans", base + "  delete:\n    enabled: yes\n  redirect:\n    disable: On\n",
			func(c *Configuration) bool { return c.Storage.Delete.Enabled && c.Storage.Redirect.Disable }},
		{"null values are zero", base + "http:\n  addr:\n  secret: ~\n",
			func(c *Configuration) bool { return c.HTTP.Addr == ":5000" && c.HTTP.Secret == "" }},
		{"numbers as strings", base + "http:\n  secret: 12345\n",
			func(c *Configuration) bool { return c.HTTP.Secret == "12345" }},
		{"quoted version", "version: \"0.1\"\nstorage: inmemory\n",
			func(c *Configuration) bool { return c.Version == "0.1" && c.Storage.Driver == "inmemory" }},
		{"prefix without slashes", base + "http:\n  prefix: a/b\n",
			func(c *Configuration) bool { return c.HTTP.Prefix == "/a/b/" }},
		{"prefix with leading slash", base + "http:\n  prefix: /a\n",
			func(c *Configuration) bool { return c.HTTP.Prefix == "/a/" }},
		{"prefix root", base + "http:\n  prefix: /\n",
			func(c *Configuration) bool { return c.HTTP.Prefix == "/" }},
		{"log level case", base + "log:\n  level: DEBUG\n  formatter: json\n",
			func(c *Configuration) bool { return c.Log.Level == "debug" && c.Log.Formatter == "json" }},
		{"deprecated loglevel", base + "loglevel: warn\n",
			func(c *Configuration) bool { return c.Log.Level == "warn" }},
		{"log.level beats loglevel", base + "loglevel: warn\nlog:\n  level: error\n",
			func(c *Configuration) bool { return c.Log.Level == "error" }},
		{"purging off", base + "  maintenance:\n    uploadpurging:\n      enabled: false\n    readonly:\n      enabled: true\n",
			func(c *Configuration) bool {
				m := c.Storage.Maintenance
				return !m.UploadPurging.Enabled && m.UploadPurging.Age == 168*time.Hour && m.ReadOnly.Enabled
			}},
		{"purging custom", base + "  maintenance:\n    uploadpurging:\n      age: 2h\n      interval: 30m\n      dryrun: true\n",
			func(c *Configuration) bool {
				p := c.Storage.Maintenance.UploadPurging
				return p.Enabled && p.Age == 2*time.Hour && p.Interval == 30*time.Minute && p.DryRun
			}},
		{"health defaults when enabled", base + "health:\n  storagedriver:\n    enabled: true\n",
			func(c *Configuration) bool {
				s := c.Health.StorageDriver
				return s.Enabled && s.Interval == 10*time.Second && s.Threshold == 3
			}},
		{"health custom", base + "health:\n  storagedriver:\n    enabled: true\n    interval: 1000\n    threshold: 5\n",
			func(c *Configuration) bool {
				s := c.Health.StorageDriver
				return s.Interval == time.Microsecond && s.Threshold == 5
			}},
		{"tls", base + "http:\n  tls:\n    certificate: /c\n    key: /k\n    clientcas: [/a, /b]\n    ciphersuites: [TLS_AES_128_GCM_SHA256]\n",
			func(c *Configuration) bool {
				t := c.HTTP.TLS
				return t.Certificate == "/c" && t.Key == "/k" && reflect.DeepEqual(t.ClientCAs, []string{"/a", "/b"}) &&
					t.MinimumTLS == "tls1.2" && len(t.CipherSuites) == 1
			}},
		{"tls minimum", base + "http:\n  tls:\n    certificate: /c\n    key: /k\n    minimumtls: tls1.3\n",
			func(c *Configuration) bool { return c.HTTP.TLS.MinimumTLS == "tls1.3" }},
		{"headers canonical", base + "http:\n  headers:\n    x-frame-options: [DENY]\n    Cache-Control: [no-cache, private]\n",
			func(c *Configuration) bool {
				return reflect.DeepEqual(c.HTTP.Headers, http.Header{
					"X-Frame-Options": {"DENY"}, "Cache-Control": {"no-cache", "private"}})
			}},
		{"http misc", base + "http:\n  net: unix\n  addr: /run/r.sock\n  host: https://r.example.com:5000\n  relativeurls: true\n  debug:\n    addr: localhost:5001\n    prometheus:\n      enabled: true\n  http2:\n    disabled: false\n",
			func(c *Configuration) bool {
				h := c.HTTP
				return h.Net == "unix" && h.Addr == "/run/r.sock" && h.Host == "https://r.example.com:5000" &&
					h.RelativeURLs && h.Debug.Addr == "localhost:5001"
			}},
		{"filesystem params", "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /srv/r\n    maxthreads: 50\n",
			func(c *Configuration) bool {
				return reflect.DeepEqual(c.Storage.Params, map[string]any{"rootdirectory": "/srv/r", "maxthreads": 50})
			}},
		{"inmemory empty mapping", "version: 0.1\nstorage:\n  inmemory: {}\n",
			func(c *Configuration) bool { return c.Storage.Driver == "inmemory" && len(c.Storage.Params) == 0 }},
		{"cache redis with redis", base + "  cache:\n    blobdescriptor: redis\nredis:\n  addr: localhost:6379\n",
			func(c *Configuration) bool { return c.Storage.Cache["blobdescriptor"] == "redis" }},
		{"cache layerinfo alias", base + "  cache:\n    layerinfo: inmemory\n",
			func(c *Configuration) bool { return c.Storage.Cache["layerinfo"] == "inmemory" }},
		{"auth empty string", base + "auth: \"\"\n",
			func(c *Configuration) bool { return c.Auth.Htpasswd == nil }},
		{"auth none", base + "auth:\n  none: {}\n",
			func(c *Configuration) bool { return c.Auth.Htpasswd == nil }},
		{"auth htpasswd", base + "auth:\n  htpasswd:\n    realm: basic-realm\n    path: /auth/htpasswd\n",
			func(c *Configuration) bool {
				a := c.Auth.Htpasswd
				return a != nil && a.Realm == "basic-realm" && a.Path == "/auth/htpasswd"
			}},
		{"anchors and aliases", base + "http:\n  draintimeout: &d 45s\nhealth:\n  storagedriver:\n    enabled: true\n    interval: *d\n",
			func(c *Configuration) bool {
				return c.HTTP.DrainTimeout == 45*time.Second && c.Health.StorageDriver.Interval == 45*time.Second
			}},
		{"empty sections", base + "http:\nlog:\nhealth:\nauth:\n",
			func(c *Configuration) bool { return c.HTTP.Addr == ":5000" && c.Auth.Htpasswd == nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c := mustParse(t, tc.yaml); !tc.check(c) {
				t.Fatalf("unexpected result %+v", c)
			}
		})
	}
}

// TestIgnoredSections feeds the parts of distribution's reference that
// wharf accepts without acting on them; each is reported as a warning.
func TestIgnoredSections(t *testing.T) {
	yml := base + `log:
  reportcaller: true
  hooks:
    - type: mail
      levels: [panic]
      options: {smtp: {addr: "mail.example.com:25"}, to: [a@example.com]}
notifications:
  events: {includereferences: true}
  endpoints:
    - {name: l, url: "https://l.example.com/event", timeout: 1s, threshold: 10, backoff: 1s}
reporting:
  bugsnag: {apikey: k}
validation:
  manifests: {urls: {allow: ['^https?://([^/]+\.)*example\.com/']}}
compatibility:
  schema1: {enabled: true}
redis:
  addr: localhost:6379
catalog:
  maxentries: 100
proxy: {}
middleware: {}
`
	c := mustParse(t, yml)
	want := []string{"log.hooks", "notifications", "reporting", "validation", "compatibility", "redis", "catalog"}
	if len(c.Warnings) != len(want) {
		t.Fatalf("warnings %q, want one for each of %q", c.Warnings, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(c.Warnings[i], w+": ") {
			t.Errorf("warning %d = %q, want it about %s", i, c.Warnings[i], w)
		}
	}
}

// TestSectionsMatchDecoder keeps the env section list and the decoder's
// top-level keys in step: each listed section is accepted when empty.
func TestSectionsMatchDecoder(t *testing.T) {
	for s := range sections {
		if s == "version" || s == "storage" {
			continue
		}
		if _, err := ParseWithEnv(strings.NewReader(base+s+":\n"), nil); err != nil {
			t.Errorf("section %s: %v", s, err)
		}
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if c.Storage.Driver != "filesystem" || c.Storage.Params["rootdirectory"] != "/var/lib/registry" {
		t.Errorf("storage %+v", c.Storage)
	}
	if c.HTTP.Addr != ":5000" || c.HTTP.Headers.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("http %+v", c.HTTP)
	}
	s := c.Health.StorageDriver
	if !s.Enabled || s.Interval != 10*time.Second || s.Threshold != 3 {
		t.Errorf("health %+v", s)
	}
	if c.Log.Fields["service"] != "registry" || c.Storage.Cache["blobdescriptor"] != "inmemory" {
		t.Errorf("log fields %v cache %v", c.Log.Fields, c.Storage.Cache)
	}
	again, err := ParseWithEnv(bytes.NewReader(DefaultYAML), nil)
	if err != nil || !reflect.DeepEqual(c, again) {
		t.Errorf("Default() differs from parsing DefaultYAML: %v", err)
	}
	// Default returns a fresh value each time: callers may change it.
	c.HTTP.Addr = ":1"
	if Default().HTTP.Addr != ":5000" {
		t.Error("Default() shares state between calls")
	}
}

// checkDebian asserts the values of Debian's docker-registry config.yml.
func checkDebian(t *testing.T, c *Configuration) {
	t.Helper()
	if c.Log.Fields["service"] != "registry" || c.Log.Level != "info" {
		t.Errorf("log %+v", c.Log)
	}
	s := c.Storage
	if s.Driver != "filesystem" || s.Params["rootdirectory"] != "/var/lib/docker-registry" ||
		!s.Delete.Enabled || s.Cache["blobdescriptor"] != "inmemory" {
		t.Errorf("storage %+v", s)
	}
	if c.HTTP.Addr != ":5000" || !reflect.DeepEqual(c.HTTP.Headers, http.Header{"X-Content-Type-Options": {"nosniff"}}) {
		t.Errorf("http %+v", c.HTTP)
	}
	if a := c.Auth.Htpasswd; a == nil || a.Realm != "basic-realm" || a.Path != "/etc/docker/registry" {
		t.Errorf("auth %+v", c.Auth)
	}
	if h := c.Health.StorageDriver; !h.Enabled || h.Interval != 10*time.Second || h.Threshold != 3 {
		t.Errorf("health %+v", h)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %q", c.Warnings)
	}
}

// TestDebianConfig parses the config.yml Debian's docker-registry package
// ships: the copy in testdata, and the installed one when the package is
// (the CI installs it). The installed file must parse; its values are
// checked when it is the same file as the copy.
func TestDebianConfig(t *testing.T) {
	want, err := os.ReadFile("testdata/debian-config.yml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseWithEnv(bytes.NewReader(want), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkDebian(t, c)

	const installed = "/etc/docker/registry/config.yml"
	got, err := os.ReadFile(installed)
	if os.IsNotExist(err) {
		t.Logf("%s not installed (apt-get install docker-registry); checked the testdata copy only", installed)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	ic, err := ParseWithEnv(bytes.NewReader(got), nil)
	if err != nil {
		t.Fatalf("%s: %v", installed, err)
	}
	if bytes.Equal(got, want) {
		checkDebian(t, ic)
	} else {
		t.Logf("%s differs from testdata/debian-config.yml; checked that it parses", installed)
	}
}
