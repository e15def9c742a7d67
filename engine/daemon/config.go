package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"reflect"
	"sort"
	"strings"
)

// Defaults of the daemon configuration.
const (
	DefaultDataRoot        = "/var/lib/wharf"
	DefaultExecRoot        = "/run/wharf"
	DefaultPidfile         = "/run/wharf.pid"
	DefaultConfigFile      = "/etc/wharf/daemon.json"
	DefaultGroup           = "docker"
	DefaultShutdownTimeout = 15 // seconds
)

// Config is the daemon's configuration: dockerd's flags and their daemon.json
// keys (the json tags). A key in the file that is not here is refused.
//
//	{
//	  "hosts": ["unix:///run/wharf/wharf.sock"],   // -H, --host
//	  "data-root": "/var/lib/wharf",               // --data-root
//	  "exec-root": "/run/wharf",                   // --exec-root
//	  "pidfile": "/run/wharf.pid",                 // --pidfile
//	  "group": "docker",                           // --group, owner group of unix sockets
//	  "tls": false, "tlsverify": false,            // --tls, --tlsverify (implies tls)
//	  "tlscacert": "~/.docker/ca.pem", "tlscert": "~/.docker/cert.pem", "tlskey": "~/.docker/key.pem",
//	  "insecure-registries": ["10.0.0.0/8", "myreg:5000"],  // --insecure-registry
//	  "registry-mirrors": ["https://mirror.example"],      // --registry-mirror
//	  "log-level": "info",                         // --log-level: debug|info|warn|error|fatal
//	  "debug": false,                              // -D, --debug
//	  "api-cors-header": "",                       // --api-cors-header
//	  "shutdown-timeout": 15,                      // --shutdown-timeout, seconds to drain requests
//	  "labels": ["k=v"],                           // --label
//	  "experimental": false,                       // --experimental
//	  "storage-driver": "",                        // -s, --storage-driver: overlay|native, "" picks overlay when it works
//	  "bridge": "wharf0",                          // -b, --bridge: the default bridge's device (never dockerd's docker0)
//	  "bip": "",                                   // --bip: the default bridge's address, e.g. 172.17.0.1/16 ("" picks a free pool)
//	  "mtu": 1500,                                 // --mtu: MTU of bridges and container interfaces
//	  "dns": []                                    // --dns: resolvers for containers (default: the host's resolv.conf)
//	}
type Config struct {
	Hosts              []string `json:"hosts,omitempty"`
	DataRoot           string   `json:"data-root,omitempty"`
	ExecRoot           string   `json:"exec-root,omitempty"`
	Pidfile            string   `json:"pidfile,omitempty"`
	Group              string   `json:"group,omitempty"`
	TLS                bool     `json:"tls,omitempty"`
	TLSVerify          bool     `json:"tlsverify,omitempty"`
	TLSCACert          string   `json:"tlscacert,omitempty"`
	TLSCert            string   `json:"tlscert,omitempty"`
	TLSKey             string   `json:"tlskey,omitempty"`
	InsecureRegistries []string `json:"insecure-registries,omitempty"`
	RegistryMirrors    []string `json:"registry-mirrors,omitempty"`
	LogLevel           string   `json:"log-level,omitempty"`
	Debug              bool     `json:"debug,omitempty"`
	CorsHeaders        string   `json:"api-cors-header,omitempty"`
	ShutdownTimeout    int      `json:"shutdown-timeout,omitempty"`
	Labels             []string `json:"labels,omitempty"`
	Experimental       bool     `json:"experimental,omitempty"`
	StorageDriver      string   `json:"storage-driver,omitempty"`
	Bridge             string   `json:"bridge,omitempty"`
	BridgeIP           string   `json:"bip,omitempty"`
	MTU                int      `json:"mtu,omitempty"`
	DNS                []string `json:"dns,omitempty"`
	// LiveRestore keeps containers running when the daemon stops; the
	// next daemon adopts them (they survive a crash either way).
	LiveRestore bool `json:"live-restore,omitempty"`
}

// FlagNames maps a daemon.json key to its command-line flag where the two
// differ (plural keys, singular repeatable flags).
var FlagNames = map[string]string{
	"hosts":               "host",
	"insecure-registries": "insecure-registry",
	"registry-mirrors":    "registry-mirror",
	"labels":              "label",
	"dns":                 "dns",
}

// knownKeys lists the json keys of Config.
func knownKeys() map[string]bool {
	b, _ := json.Marshal(Config{Hosts: []string{""}, DataRoot: "x", ExecRoot: "x", Pidfile: "x", Group: "x", TLS: true,
		TLSVerify: true, TLSCACert: "x", TLSCert: "x", TLSKey: "x", InsecureRegistries: []string{""},
		RegistryMirrors: []string{""}, LogLevel: "x", Debug: true, CorsHeaders: "x", ShutdownTimeout: 1,
		Labels: []string{""}, Experimental: true, StorageDriver: "x", Bridge: "x", BridgeIP: "x", MTU: 1, DNS: []string{""}, LiveRestore: true})
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	keys := make(map[string]bool, len(m))
	for k := range m {
		keys[k] = true
	}
	return keys
}

// LoadFile reads daemon.json into c (over what c holds) and returns the keys
// the file set. Unknown keys are refused, all of them named, as dockerd does.
func LoadFile(path string, c *Config) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]any{}, nil
	}
	wrap := func(err error) error {
		return fmt.Errorf("unable to configure the wharf daemon with file %s: %w", path, err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, wrap(err)
	}
	known := knownKeys()
	var unknown []string
	for k := range raw {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, wrap(fmt.Errorf("the following directives don't match any configuration option: %s", strings.Join(unknown, ", ")))
	}
	// Decode into a fresh value and copy only the keys the file has, so
	// slices of c (which may be bound to flags) are never written into.
	var fc Config
	if err := json.Unmarshal(b, &fc); err != nil {
		return nil, wrap(err)
	}
	dst, src := reflect.ValueOf(c).Elem(), reflect.ValueOf(fc)
	for i := 0; i < src.NumField(); i++ {
		key, _, _ := strings.Cut(src.Type().Field(i).Tag.Get("json"), ",")
		if _, ok := raw[key]; ok {
			dst.Field(i).Set(src.Field(i))
		}
	}
	return raw, nil
}

// Conflicts returns dockerd's error for keys set both in the file (fileKeys)
// and by a flag; flagValue reports a flag's value and whether it was set.
func Conflicts(path string, fileKeys map[string]any, flagValue func(flag string) (string, bool)) error {
	var conflicts []string
	keys := make([]string, 0, len(fileKeys))
	for k := range fileKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		flag := k
		if f, ok := FlagNames[k]; ok {
			flag = f
		}
		if v, set := flagValue(flag); set {
			conflicts = append(conflicts, fmt.Sprintf("%s: (from flag: %s, from file: %v)", k, v, fileKeys[k]))
		}
	}
	if len(conflicts) == 0 {
		return nil
	}
	return fmt.Errorf("unable to configure the wharf daemon with file %s: the following directives are specified both as a flag and in the configuration file: %s",
		path, strings.Join(conflicts, ", "))
}

// Validate fills defaults and checks values, naming the bad key.
func (c *Config) Validate() error {
	if c.DataRoot == "" {
		c.DataRoot = DefaultDataRoot
	}
	if c.ExecRoot == "" {
		c.ExecRoot = DefaultExecRoot
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.ShutdownTimeout < 0 {
		return errors.New("shutdown-timeout: must not be negative")
	}
	if c.TLSVerify {
		c.TLS = true
	}
	switch c.StorageDriver {
	case "", "overlay", "native":
	default:
		return fmt.Errorf("storage-driver: unknown driver %q (want overlay or native)", c.StorageDriver)
	}
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		return err
	}
	for _, r := range c.InsecureRegistries {
		if strings.Contains(r, "://") {
			return fmt.Errorf("insecure-registries: %s: insecure registry should not contain '://'", r)
		}
	}
	for _, m := range c.RegistryMirrors {
		if !strings.HasPrefix(m, "http://") && !strings.HasPrefix(m, "https://") {
			return fmt.Errorf("registry-mirrors: invalid mirror: unsupported scheme in %q: must use either 'https://' or 'http://'", m)
		}
	}
	for _, l := range c.Labels {
		if k, _, ok := strings.Cut(l, "="); !ok || k == "" {
			return fmt.Errorf("labels: bad attribute format: %s", l)
		}
	}
	if c.Bridge == "docker0" {
		return errors.New("bridge: docker0 belongs to dockerd; give wharf a bridge of its own")
	}
	if len(c.Bridge) > 15 {
		return fmt.Errorf("bridge: name %q is longer than 15 characters", c.Bridge)
	}
	if c.BridgeIP != "" {
		if ip, _, err := net.ParseCIDR(c.BridgeIP); err != nil || ip.To4() == nil {
			return fmt.Errorf("bip: invalid address %q: want an IPv4 CIDR such as 172.17.0.1/16", c.BridgeIP)
		}
	}
	if c.MTU != 0 && (c.MTU < 68 || c.MTU > 65535) {
		return fmt.Errorf("mtu: %d is out of range (68-65535)", c.MTU)
	}
	for _, d := range c.DNS {
		if net.ParseIP(d) == nil {
			return fmt.Errorf("dns: %s is not an ip address", d)
		}
	}
	for _, h := range c.Hosts {
		if !strings.HasPrefix(h, "unix://") && !strings.HasPrefix(h, "tcp://") && !strings.HasPrefix(h, "fd://") {
			return fmt.Errorf("hosts: invalid bind address (%s): want unix://, tcp:// or fd://", h)
		}
	}
	return nil
}

// ParseLogLevel maps dockerd's --log-level names to slog levels.
func ParseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug", "trace":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "fatal", "panic":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log-level: unable to parse logging level: %s", s)
}

// InsecureRegistry reports whether host ("127.0.0.1:5000", "myreg:5000") may
// be reached over plain HTTP or unverified TLS: it is in insecure-registries
// by name, or its IP is in one of their CIDRs or in 127.0.0.0/8 (as dockerd).
func (c *Config) InsecureRegistry(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	cidrs := append([]string{"127.0.0.0/8"}, c.InsecureRegistries...)
	// No DNS look-up here (dockerd does one): only IP literals and
	// localhost are matched against CIDRs.
	var ips []net.IP
	if ip := net.ParseIP(name); ip != nil {
		ips = []net.IP{ip}
	} else if name == "localhost" {
		ips = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	for _, r := range cidrs {
		if r == host || r == name {
			return true
		}
		if _, n, err := net.ParseCIDR(r); err == nil {
			for _, ip := range ips {
				if n.Contains(ip) {
					return true
				}
			}
		}
	}
	return false
}
