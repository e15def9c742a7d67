package configuration

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestRoundTrip parses configurations, writes them back with yaml.Marshal
// and parses the output: the result must be the same configuration.
func TestRoundTrip(t *testing.T) {
	debian, err := os.ReadFile("testdata/debian-config.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		yaml []byte
		env  []string
	}{
		{"debian docker-registry", debian, nil},
		{"registry:2 default", DefaultYAML, nil},
		{"everything set", []byte(fsBase + `  prefix: /r
  host: https://r.example.com
  secret: s
  relativeurls: true
  draintimeout: 0
  tls:
    certificate: /c
    key: /k
    clientcas: [/ca]
    minimumtls: tls1.3
    ciphersuites: [TLS_AES_256_GCM_SHA384]
  debug:
    addr: localhost:5001
log:
  level: debug
  formatter: json
  accesslog:
    disabled: true
  fields:
    service: registry
    n: 3
health:
  storagedriver:
    enabled: true
    interval: 3s
    threshold: 2
auth:
  htpasswd:
    realm: r
    path: /p
`), []string{"REGISTRY_STORAGE_FILESYSTEM_MAXTHREADS=64", "REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_ENABLED=false"}},
		{"inmemory", []byte(base), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseWithEnv(bytes.NewReader(tc.yaml), tc.env)
			if err != nil {
				t.Fatal(err)
			}
			out, err := yaml.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			again, err := ParseWithEnv(bytes.NewReader(out), nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			c.Warnings, again.Warnings = nil, nil
			if !reflect.DeepEqual(c, again) {
				t.Fatalf("round trip changed the configuration\nbefore %+v\nafter  %+v\n%s", c, again, out)
			}
		})
	}
}
