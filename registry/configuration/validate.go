package configuration

import (
	"crypto/tls"
	"net/url"
	"strings"
	"time"
)

// Defaults, as distribution applies them (drain timeout is wharf's).
const (
	DefaultAddr            = ":5000"
	DefaultNet             = "tcp"
	DefaultRootDirectory   = "/var/lib/registry"
	DefaultDrainTimeout    = 30 * time.Second
	DefaultPurgeAge        = 168 * time.Hour
	DefaultPurgeInterval   = 24 * time.Hour
	DefaultHealthInterval  = 10 * time.Second
	DefaultHealthThreshold = 3
	DefaultMinimumTLS      = "tls1.2"
	DefaultLogLevel        = "info"
	DefaultLogFormatter    = "text"
)

var (
	logLevels     = map[string]bool{"error": true, "warn": true, "info": true, "debug": true}
	logFormatters = map[string]bool{"text": true, "json": true, "logstash": true}
	networks      = map[string]bool{"tcp": true, "tcp4": true, "tcp6": true, "unix": true}
	tlsVersions   = map[string]bool{"tls1.0": true, "tls1.1": true, "tls1.2": true, "tls1.3": true}
	blobCaches    = map[string]bool{"inmemory": true, "redis": true}
)

// finish validates the decoded configuration and fills in defaults. It
// reports through d.fail so errors name their key (and variable) too.
func finish(c *Configuration, d *decoder) {
	if d.err != nil {
		return
	}
	finishLog(c, d)
	finishStorage(&c.Storage, d)
	finishHTTP(&c.HTTP, d)
	finishHealth(&c.Health, d)
	if a := c.Auth.Htpasswd; a != nil {
		if a.Realm == "" {
			d.fail("auth.htpasswd.realm", "required")
		}
		if a.Path == "" {
			d.fail("auth.htpasswd.path", "required")
		}
	}
}

func finishLog(c *Configuration, d *decoder) {
	key := "log.level"
	if !d.set[key] && d.set["loglevel"] {
		key = "loglevel"
	}
	c.Log.Level = strings.ToLower(c.Log.Level)
	if c.Log.Level == "" {
		c.Log.Level = DefaultLogLevel
	}
	if !logLevels[c.Log.Level] {
		d.fail(key, "invalid level %q (one of error, warn, info, debug)", c.Log.Level)
	}
	if c.Log.Formatter == "" {
		c.Log.Formatter = DefaultLogFormatter
	}
	if !logFormatters[c.Log.Formatter] {
		d.fail("log.formatter", "invalid formatter %q (one of text, json, logstash)", c.Log.Formatter)
	}
}

func finishStorage(s *Storage, d *decoder) {
	if s.Driver == "" {
		d.fail("storage", "a storage driver is required (filesystem or inmemory)")
		return
	}
	if s.Driver == "filesystem" {
		if _, ok := s.Params["rootdirectory"]; !ok {
			s.Params["rootdirectory"] = DefaultRootDirectory
		}
		if s.Params["rootdirectory"] == "" {
			d.fail("storage.filesystem.rootdirectory", "must not be empty")
		}
		if n, ok := s.Params["maxthreads"].(int); ok && n <= 0 {
			d.fail("storage.filesystem.maxthreads", "must be positive")
		}
	}
	for _, k := range []string{"blobdescriptor", "layerinfo"} {
		v, ok := s.Cache[k]
		if !ok || v == nil {
			continue
		}
		if bd, _ := v.(string); !blobCaches[bd] {
			d.fail("storage.cache."+k, "invalid cache %v (inmemory or redis)", v)
		} else if bd == "redis" && !d.hasRedis {
			d.fail("storage.cache."+k, "redis needs a redis section")
		}
	}
	p := &s.Maintenance.UploadPurging
	const up = "storage.maintenance.uploadpurging"
	if !d.set[up+".enabled"] {
		p.Enabled = true
	}
	if !d.set[up+".age"] {
		p.Age = DefaultPurgeAge
	}
	if !d.set[up+".interval"] {
		p.Interval = DefaultPurgeInterval
	}
	if p.Enabled && p.Age <= 0 {
		d.fail(up+".age", "must be positive when upload purging is enabled")
	}
	if p.Enabled && p.Interval <= 0 {
		d.fail(up+".interval", "must be positive when upload purging is enabled")
	}
}

func finishHTTP(h *HTTP, d *decoder) {
	if h.Addr == "" {
		h.Addr = DefaultAddr
	}
	if h.Net == "" {
		h.Net = DefaultNet
	}
	if !networks[h.Net] {
		d.fail("http.net", "invalid network %q (tcp or unix)", h.Net)
	}
	if h.Prefix != "" {
		if !strings.HasPrefix(h.Prefix, "/") {
			h.Prefix = "/" + h.Prefix
		}
		if !strings.HasSuffix(h.Prefix, "/") {
			h.Prefix += "/"
		}
	}
	if h.Host != "" {
		u, err := url.Parse(h.Host)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.fail("http.host", "must be an absolute http or https URL, got %q", h.Host)
		}
	}
	if !d.set["http.draintimeout"] {
		h.DrainTimeout = DefaultDrainTimeout
	}
	if h.DrainTimeout < 0 {
		d.fail("http.draintimeout", "must not be negative")
	}
	finishTLS(h, d)
}

func finishTLS(h *HTTP, d *decoder) {
	t := &h.TLS
	switch {
	case t.Certificate != "" && t.Key == "":
		d.fail("http.tls.key", "required when http.tls.certificate is set")
	case t.Key != "" && t.Certificate == "":
		d.fail("http.tls.certificate", "required when http.tls.key is set")
	case t.Certificate == "" && len(t.ClientCAs) > 0:
		d.fail("http.tls.clientcas", "needs http.tls.certificate and http.tls.key")
	}
	if t.MinimumTLS != "" && !tlsVersions[t.MinimumTLS] {
		d.fail("http.tls.minimumtls", "invalid version %q (tls1.0, tls1.1, tls1.2 or tls1.3)", t.MinimumTLS)
	}
	if t.MinimumTLS == "" && t.Certificate != "" {
		t.MinimumTLS = DefaultMinimumTLS
	}
	known := map[string]bool{}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		known[cs.Name] = true
	}
	for _, name := range t.CipherSuites {
		if !known[name] {
			d.fail("http.tls.ciphersuites", "unknown cipher suite %q", name)
		}
	}
}

func finishHealth(h *Health, d *decoder) {
	sd := &h.StorageDriver
	if sd.Interval < 0 {
		d.fail("health.storagedriver.interval", "must not be negative")
	}
	if sd.Threshold < 0 {
		d.fail("health.storagedriver.threshold", "must not be negative")
	}
	if !sd.Enabled {
		return
	}
	if sd.Interval == 0 {
		sd.Interval = DefaultHealthInterval
	}
	if sd.Threshold == 0 {
		sd.Threshold = DefaultHealthThreshold
	}
}
