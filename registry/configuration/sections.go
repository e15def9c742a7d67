package configuration

import (
	"gopkg.in/yaml.v3"
)

// drivers lists the storage drivers wharf implements, by the name used as
// their section under storage. Their parameters are checked here so that a
// misspelled one stops the start with its key named.
var drivers = map[string]bool{
	"filesystem": true, // rootdirectory, maxthreads
	"inmemory":   true, // takes no parameters
}

// otherDrivers are distribution's drivers that wharf refuses by name.
var otherDrivers = map[string]bool{
	"s3": true, "s3-aws": true, "azure": true, "gcs": true, "swift": true, "oss": true, "s3-goamz": true,
}

// top decodes the document root. version is checked first so that a file
// of another format version fails on that, not on its first unknown key.
func (d *decoder) top(root *yaml.Node, c *Configuration) {
	var version *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if deref(root.Content[i]).Value == "version" {
			version = root.Content[i+1]
		}
	}
	if version == nil {
		d.fail("version", "required (use 0.1)")
		return
	}
	d.str(&c.Version)(version, "version")
	if d.err == nil && c.Version != "0.1" {
		d.fail("version", "unsupported version %q (only 0.1 is)", c.Version)
		return
	}
	var loglevel string
	d.mapping(root, "", fields{
		"version":  func(*yaml.Node, string) {},
		"log":      func(n *yaml.Node, p string) { d.log(n, p, c) },
		"loglevel": d.str(&loglevel), // deprecated spelling of log.level
		"storage":  func(n *yaml.Node, p string) { d.storage(n, p, &c.Storage) },
		"auth":     func(n *yaml.Node, p string) { d.auth(n, p, &c.Auth) },
		"http":     func(n *yaml.Node, p string) { d.http(n, p, &c.HTTP) },
		"health":   func(n *yaml.Node, p string) { d.health(n, p, &c.Health) },
		"redis": func(n *yaml.Node, p string) {
			d.hasRedis = !isEmpty(n)
			d.ignore(n, p)
		},
		"proxy":         d.refuse("pull-through cache"),
		"middleware":    d.refuse("registry, repository and storage middleware"),
		"notifications": d.ignore,
		"reporting":     d.ignore,
		"validation":    d.ignore,
		"compatibility": d.ignore,
		"catalog":       d.ignore,
		"policy":        d.ignore,
	})
	if c.Log.Level == "" {
		c.Log.Level = loglevel
	}
}

func (d *decoder) log(n *yaml.Node, path string, c *Configuration) {
	d.mapping(n, path, fields{
		"level":     d.str(&c.Log.Level),
		"formatter": d.str(&c.Log.Formatter),
		"fields":    d.anyMap(&c.Log.Fields),
		"accesslog": func(n *yaml.Node, p string) {
			d.mapping(n, p, fields{"disabled": d.boolean(&c.Log.AccessLog.Disabled)})
		},
		"hooks":        d.ignore,
		"reportcaller": d.boolean(new(bool)),
	})
}

// storage decodes the storage section: exactly one driver section plus the
// storage-wide options. "storage: inmemory" is short for a driver section
// without parameters (this is what REGISTRY_STORAGE=inmemory produces).
func (d *decoder) storage(n *yaml.Node, path string, s *Storage) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Value == "" {
		return // no driver: finish reports it
	}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		d.storageDriver(s, join(path, n.Value), n.Value, nil)
		return
	}
	m := &s.Maintenance
	d.mapping(n, path, fields{
		"delete": func(n *yaml.Node, p string) {
			d.mapping(n, p, fields{"enabled": d.boolean(&s.Delete.Enabled)})
		},
		"redirect": func(n *yaml.Node, p string) {
			d.mapping(n, p, fields{"disable": d.boolean(&s.Redirect.Disable)})
		},
		"cache": func(n *yaml.Node, p string) {
			var blob, layer, size string
			d.mapping(n, p, fields{
				"blobdescriptor":     d.str(&blob),
				"layerinfo":          d.str(&layer), // deprecated name of blobdescriptor
				"blobdescriptorsize": d.str(&size),
			})
			d.anyMap(&s.Cache)(n, p)
		},
		"maintenance": func(n *yaml.Node, p string) {
			d.mapping(n, p, fields{
				"readonly": func(n *yaml.Node, p string) {
					d.mapping(n, p, fields{"enabled": d.boolean(&m.ReadOnly.Enabled)})
				},
				"uploadpurging": func(n *yaml.Node, p string) {
					d.mapping(n, p, fields{
						"enabled":  d.boolean(&m.UploadPurging.Enabled),
						"age":      d.duration(&m.UploadPurging.Age),
						"interval": d.duration(&m.UploadPurging.Interval),
						"dryrun":   d.boolean(&m.UploadPurging.DryRun),
					})
				},
			})
		},
		"tag": d.ignore, // distribution 3's tag lookup concurrency
		"*": func(n *yaml.Node, p string) {
			d.storageDriver(s, p, p[len(path)+1:], n)
		},
	})
}

// storageDriver records the driver named name, whose section (nil for the
// short form) is params at path.
func (d *decoder) storageDriver(s *Storage, path, name string, params *yaml.Node) {
	switch {
	case otherDrivers[name]:
		d.fail(path, "storage driver not supported by wharf (supported: %s)", keys(drivers))
		return
	case !drivers[name]:
		d.fail(path, "unknown key (storage drivers: %s)", keys(drivers))
		return
	case s.Driver != "":
		d.fail(path, "only one storage driver may be configured, %s already is", s.Driver)
		return
	}
	s.Driver = name
	s.Params = map[string]any{}
	switch name {
	case "filesystem":
		var root string
		var threads int
		d.mapping(params, path, fields{
			"rootdirectory": d.str(&root),
			"maxthreads":    d.integer(&threads),
		})
		if d.set[join(path, "rootdirectory")] {
			s.Params["rootdirectory"] = root
		}
		if d.set[join(path, "maxthreads")] {
			s.Params["maxthreads"] = threads
		}
	case "inmemory":
		d.mapping(params, path, fields{})
	}
}

// auth decodes the auth section: one provider, and only htpasswd (or none)
// is supported. "auth: htpasswd" is the short form of an empty section.
func (d *decoder) auth(n *yaml.Node, path string, a *Auth) {
	n = deref(n)
	provider := func(name string, params *yaml.Node, p string) {
		switch name {
		case "htpasswd":
			a.Htpasswd = &struct{ Realm, Path string }{}
			d.mapping(params, p, fields{
				"realm": d.str(&a.Htpasswd.Realm),
				"path":  d.str(&a.Htpasswd.Path),
			})
		case "none":
		case "token", "silly":
			d.fail(p, "auth provider not supported by wharf (supported: htpasswd)")
		default:
			d.fail(p, "unknown auth provider (supported: htpasswd)")
		}
	}
	if n.Kind == yaml.ScalarNode && n.Value == "" {
		return // "auth:" or auth: "": no authentication
	}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		provider(n.Value, nil, join(path, n.Value))
		return
	}
	count := 0
	d.mapping(n, path, fields{"*": func(v *yaml.Node, p string) {
		if count++; count > 1 {
			d.fail(p, "only one auth provider may be configured")
			return
		}
		provider(p[len(path)+1:], v, p)
	}})
}

func (d *decoder) http(n *yaml.Node, path string, h *HTTP) {
	var http2Disabled bool
	d.mapping(n, path, fields{
		"addr":         d.str(&h.Addr),
		"net":          d.str(&h.Net),
		"prefix":       d.str(&h.Prefix),
		"host":         d.str(&h.Host),
		"secret":       d.str(&h.Secret),
		"relativeurls": d.boolean(&h.RelativeURLs),
		"draintimeout": d.duration(&h.DrainTimeout),
		"headers":      d.headers(&h.Headers),
		"tls": func(n *yaml.Node, p string) {
			d.mapping(n, p, fields{
				"certificate":  d.str(&h.TLS.Certificate),
				"key":          d.str(&h.TLS.Key),
				"clientcas":    d.strings(&h.TLS.ClientCAs),
				"minimumtls":   d.str(&h.TLS.MinimumTLS),
				"ciphersuites": d.strings(&h.TLS.CipherSuites),
				"letsencrypt":  d.refuse("Let's Encrypt needs the internet; give certificate and key"),
			})
		},
		"debug": func(n *yaml.Node, p string) {
			d.mapping(n, p, fields{
				"addr":       d.str(&h.Debug.Addr),
				"prometheus": d.ignore,
			})
		},
		"http2": func(n *yaml.Node, p string) {
			d.mapping(n, p, fields{"disabled": d.boolean(&http2Disabled)})
			if http2Disabled {
				d.warn(join(p, "disabled"), "accepted but not used by wharf")
			}
		},
	})
}

func (d *decoder) health(n *yaml.Node, path string, h *Health) {
	sd := &h.StorageDriver
	d.mapping(n, path, fields{
		"storagedriver": func(n *yaml.Node, p string) {
			d.mapping(n, p, fields{
				"enabled":   d.boolean(&sd.Enabled),
				"interval":  d.duration(&sd.Interval),
				"threshold": d.integer(&sd.Threshold),
			})
		},
		"file": d.refuse("file health checks"),
		"http": d.refuse("HTTP health checks"),
		"tcp":  d.refuse("TCP health checks"),
	})
}
