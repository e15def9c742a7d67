package configuration

import (
	"errors"
	"strings"
	"testing"
)

// base is the smallest valid configuration; cases append to it.
const base = "version: 0.1\nstorage:\n  inmemory:\n"

// TestParseErrors checks that every rule refuses bad input with an error
// that starts with the offending key path (and the variable, for env).
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		env        []string
		want       string // the error must start with this
	}{
		{"no version", "storage: inmemory\n", nil, "version: required"},
		{"empty file", "", nil, "version: required"},
		{"comments only", "# nothing here\n", nil, "version: required"},
		{"storage empty string", "version: 0.1\nstorage: \"\"\n", nil, "storage: a storage driver is required"},
		{"other version", "version: 0.2\nstorage: inmemory\n", nil, `version: unsupported version "0.2"`},
		{"version not scalar", "version: [0.1]\nstorage: inmemory\n", nil, "version: expected string"},
		{"not yaml", "version: 0.1\n  storage: [\n", nil, "not valid YAML"},
		{"top not mapping", "- version\n", nil, "expected a mapping at the top level"},
		{"unknown top key", base + "storge: {}\n", nil, "storge: unknown key"},
		{"unknown nested key", "version: 0.1\nstorage:\n  filesystem:\n    rootdirectry: /x\n", nil,
			"storage.filesystem.rootdirectry: unknown key"},
		{"duplicate key", base + "http:\n  addr: a\n  addr: b\n", nil, "http.addr: duplicate key"},
		{"addr mapping", base + "http:\n  addr: {a: b}\n", nil, "http.addr: expected string"},
		{"addr list", base + "http:\n  addr: [a]\n", nil, "http.addr: expected string"},
		{"section not mapping", base + "http: :5000\n", nil, "http: expected a mapping"},
		{"bool word", base[:len(base)-1] + "\n  delete:\n    enabled: maybe\n", nil, "storage.delete.enabled: expected boolean"},
		{"bool quoted", base + "log:\n  accesslog:\n    disabled: \"true\"\n", nil, "log.accesslog.disabled: expected boolean"},
		{"int word", base + "health:\n  storagedriver:\n    threshold: three\n", nil, "health.storagedriver.threshold: expected integer"},
		{"int float", base + "health:\n  storagedriver:\n    threshold: 2.5\n", nil, "health.storagedriver.threshold: expected integer"},
		{"duration unit", base + "http:\n  draintimeout: 10 parsecs\n", nil, "http.draintimeout: expected duration"},
		{"duration no unit string", base + "http:\n  draintimeout: \"10\"\n", nil, "http.draintimeout: expected duration"},
		{"duration negative", base + "http:\n  draintimeout: -1s\n", nil, "http.draintimeout: must not be negative"},
		{"no storage", "version: 0.1\n", nil, "storage: a storage driver is required"},
		{"storage only options", "version: 0.1\nstorage:\n  delete:\n    enabled: true\n", nil, "storage: a storage driver is required"},
		{"two drivers", "version: 0.1\nstorage:\n  filesystem: {}\n  inmemory: {}\n", nil,
			"storage.inmemory: only one storage driver may be configured, filesystem already is"},
		{"s3", "version: 0.1\nstorage:\n  s3:\n    bucket: b\n", nil, "storage.s3: storage driver not supported by wharf"},
		{"s3 short", "version: 0.1\nstorage: s3\n", nil, "storage.s3: storage driver not supported by wharf"},
		{"unknown driver", "version: 0.1\nstorage:\n  floppy: {}\n", nil, "storage.floppy: unknown key"},
		{"inmemory params", "version: 0.1\nstorage:\n  inmemory:\n    size: 1\n", nil, "storage.inmemory.size: unknown key"},
		{"maxthreads word", "version: 0.1\nstorage:\n  filesystem:\n    maxthreads: lots\n", nil, "storage.filesystem.maxthreads: expected integer"},
		{"maxthreads zero", "version: 0.1\nstorage:\n  filesystem:\n    maxthreads: 0\n", nil, "storage.filesystem.maxthreads: must be positive"},
		{"rootdirectory empty", "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: \"\"\n", nil, "storage.filesystem.rootdirectory: must not be empty"},
		{"cache kind", base + "  cache:\n    blobdescriptor: memcached\n", nil, "storage.cache.blobdescriptor: invalid cache"},
		{"cache redis without redis", base + "  cache:\n    blobdescriptor: redis\n", nil, "storage.cache.blobdescriptor: redis needs a redis section"},
		{"cache unknown key", base + "  cache:\n    size: 1\n", nil, "storage.cache.size: unknown key"},
		{"purge age zero", base + "  maintenance:\n    uploadpurging:\n      age: 0s\n", nil,
			"storage.maintenance.uploadpurging.age: must be positive"},
		{"purge unknown", base + "  maintenance:\n    uploadpurging:\n      every: 1h\n", nil,
			"storage.maintenance.uploadpurging.every: unknown key"},
		{"readonly unknown", base + "  maintenance:\n    readonly:\n      enable: true\n", nil,
			"storage.maintenance.readonly.enable: unknown key"},
		{"proxy", base + "proxy:\n  remoteurl: https://registry-1.docker.io\n", nil, "proxy: not supported by wharf"},
		{"middleware", base + "middleware:\n  storage:\n    - name: cloudfront\n", nil, "middleware: not supported by wharf"},
		{"health file", base + "health:\n  file:\n    - file: /x\n", nil, "health.file: not supported by wharf"},
		{"health tcp", base + "health:\n  tcp:\n    - addr: a:1\n", nil, "health.tcp: not supported by wharf"},
		{"letsencrypt", base + "http:\n  tls:\n    letsencrypt:\n      cachefile: /c\n", nil, "http.tls.letsencrypt: not supported by wharf"},
		{"auth token", base + "auth:\n  token:\n    realm: r\n", nil, "auth.token: auth provider not supported by wharf"},
		{"auth silly", base + "auth:\n  silly:\n    realm: r\n", nil, "auth.silly: auth provider not supported by wharf"},
		{"auth unknown", base + "auth:\n  ldap: {}\n", nil, "auth.ldap: unknown auth provider"},
		{"auth two", base + "auth:\n  htpasswd: {realm: r, path: /p}\n  none: {}\n", nil, "auth.none: only one auth provider"},
		{"htpasswd realm", base + "auth:\n  htpasswd:\n    path: /p\n", nil, "auth.htpasswd.realm: required"},
		{"htpasswd path", base + "auth:\n  htpasswd:\n    realm: r\n", nil, "auth.htpasswd.path: required"},
		{"htpasswd short", base + "auth: htpasswd\n", nil, "auth.htpasswd.realm: required"},
		{"htpasswd unknown", base + "auth:\n  htpasswd:\n    realm: r\n    path: /p\n    file: /f\n", nil, "auth.htpasswd.file: unknown key"},
		{"log level", base + "log:\n  level: verbose\n", nil, `log.level: invalid level "verbose"`},
		{"deprecated loglevel", base + "loglevel: verbose\n", nil, `loglevel: invalid level "verbose"`},
		{"log formatter", base + "log:\n  formatter: xml\n", nil, `log.formatter: invalid formatter "xml"`},
		{"log fields list", base + "log:\n  fields: [a]\n", nil, "log.fields: expected a mapping"},
		{"tls cert only", base + "http:\n  tls:\n    certificate: /c\n", nil, "http.tls.key: required when http.tls.certificate is set"},
		{"tls key only", base + "http:\n  tls:\n    key: /k\n", nil, "http.tls.certificate: required when http.tls.key is set"},
		{"clientcas alone", base + "http:\n  tls:\n    clientcas: [/ca]\n", nil, "http.tls.clientcas: needs http.tls.certificate"},
		{"clientcas scalar", base + "http:\n  tls:\n    clientcas: /ca\n", nil, "http.tls.clientcas: expected a list of strings"},
		{"clientcas nested", base + "http:\n  tls:\n    clientcas: [[a]]\n", nil, "http.tls.clientcas[0]: expected string"},
		{"minimumtls", base + "http:\n  tls:\n    certificate: /c\n    key: /k\n    minimumtls: tls9\n", nil, `http.tls.minimumtls: invalid version "tls9"`},
		{"ciphersuite", base + "http:\n  tls:\n    certificate: /c\n    key: /k\n    ciphersuites: [TLS_FAST]\n", nil, `http.tls.ciphersuites: unknown cipher suite "TLS_FAST"`},
		{"net", base + "http:\n  net: udp\n", nil, `http.net: invalid network "udp"`},
		{"host", base + "http:\n  host: registry.example.com\n", nil, "http.host: must be an absolute http or https URL"},
		{"header scalar", base + "http:\n  headers:\n    X-Frame-Options: DENY\n", nil, "http.headers.X-Frame-Options: expected a list of strings"},
		{"debug unknown", base + "http:\n  debug:\n    port: 5001\n", nil, "http.debug.port: unknown key"},
		{"health unknown", base + "health:\n  storagedriver:\n    enable: true\n", nil, "health.storagedriver.enable: unknown key"},
		{"health negative", base + "health:\n  storagedriver:\n    enabled: true\n    threshold: -1\n", nil, "health.storagedriver.threshold: must not be negative"},

		// Environment overrides: the error names the variable, then the key.
		{"env unknown key", base, []string{"REGISTRY_HTTP_ADDRX=:1"}, "REGISTRY_HTTP_ADDRX: http.addrx: unknown key"},
		{"env unknown nested", "version: 0.1\nstorage:\n  filesystem: {}\n", []string{"REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTRY=/x"},
			"REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTRY: storage.filesystem.rootdirectry: unknown key"},
		{"env bad bool", base, []string{"REGISTRY_STORAGE_DELETE_ENABLED=maybe"},
			"REGISTRY_STORAGE_DELETE_ENABLED: storage.delete.enabled: expected boolean"},
		{"env bad level", base, []string{"REGISTRY_LOG_LEVEL=loud"}, `REGISTRY_LOG_LEVEL: log.level: invalid level "loud"`},
		{"env bad yaml", base, []string{"REGISTRY_LOG_LEVEL=[x"}, "REGISTRY_LOG_LEVEL: value is not valid YAML"},
		{"env driver", base, []string{"REGISTRY_STORAGE=s3"}, "REGISTRY_STORAGE: storage.s3: storage driver not supported"},
		{"env second driver", base, []string{"REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/x"},
			"REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: storage.filesystem: only one storage driver"},
		{"env proxy", base, []string{"REGISTRY_PROXY_REMOTEURL=https://r.example"}, "REGISTRY_PROXY_REMOTEURL: proxy: not supported"},
		{"env into value", base + "http:\n  addr: :5000\n", []string{"REGISTRY_HTTP_ADDR_PORT=1"},
			"REGISTRY_HTTP_ADDR_PORT: http.addr: is a value, not a section"},
		{"env list index", base, []string{"REGISTRY_HTTP_TLS_CLIENTCAS_3=/ca"}, "REGISTRY_HTTP_TLS_CLIENTCAS_3: http.tls.clientcas: is a list"},
		{"env empty part", base, []string{"REGISTRY_HTTP__ADDR=:1"}, "REGISTRY_HTTP__ADDR: http: empty key"},
		{"env cert without key", base, []string{"REGISTRY_HTTP_TLS_CERTIFICATE=/c"},
			"REGISTRY_HTTP_TLS_CERTIFICATE: http.tls.key: required"},
		{"env version", base, []string{"REGISTRY_VERSION=0.2"}, `REGISTRY_VERSION: version: unsupported version "0.2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseWithEnv(strings.NewReader(tc.yaml), tc.env)
			if err == nil {
				t.Fatalf("no error; got %+v", c)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant prefix %q", err, tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q is not ErrInvalid", err)
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	_, err := ParseWithEnv(strings.NewReader(base), []string{"REGISTRY_HTTP_NETWORK=tcp"})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	if e.Key != "http.network" || e.Env != "REGISTRY_HTTP_NETWORK" || e.Msg != "unknown key" {
		t.Fatalf("got %#v", e)
	}
}

// errReader fails every read.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadErrorIsNotInvalid(t *testing.T) {
	_, err := Parse(errReader{})
	if err == nil || errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("got %v", err)
	}
}
