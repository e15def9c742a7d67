package configuration

import (
	"time"

	"gopkg.in/yaml.v3"
)

var _ yaml.Marshaler = (*Configuration)(nil)

// MarshalYAML writes the effective configuration back in distribution's
// format, defaults included, so `yaml.Marshal(c)` shows what a registry
// runs with and parsing the output gives c again (Warnings aside).
func (c *Configuration) MarshalYAML() (any, error) {
	log := section{
		{"level", c.Log.Level},
		{"formatter", c.Log.Formatter},
		{"accesslog", section{{"disabled", c.Log.AccessLog.Disabled}}},
	}
	if len(c.Log.Fields) > 0 {
		log = append(log, kv{"fields", c.Log.Fields})
	}

	s := &c.Storage
	up := s.Maintenance.UploadPurging
	storage := section{
		{s.Driver, s.Params},
		{"delete", section{{"enabled", s.Delete.Enabled}}},
		{"redirect", section{{"disable", s.Redirect.Disable}}},
		{"maintenance", section{
			{"uploadpurging", section{
				{"enabled", up.Enabled}, {"age", dur(up.Age)}, {"interval", dur(up.Interval)}, {"dryrun", up.DryRun},
			}},
			{"readonly", section{{"enabled", s.Maintenance.ReadOnly.Enabled}}},
		}},
	}
	if len(s.Cache) > 0 {
		storage = append(storage, kv{"cache", s.Cache})
	}

	h := &c.HTTP
	httpSec := section{
		{"addr", h.Addr}, {"net", h.Net}, {"relativeurls", h.RelativeURLs}, {"draintimeout", dur(h.DrainTimeout)},
	}
	for _, opt := range []kv{{"prefix", h.Prefix}, {"host", h.Host}, {"secret", h.Secret}} {
		if opt.v != "" {
			httpSec = append(httpSec, opt)
		}
	}
	if h.TLS.Certificate != "" || h.TLS.Key != "" {
		tls := section{{"certificate", h.TLS.Certificate}, {"key", h.TLS.Key}, {"minimumtls", h.TLS.MinimumTLS}}
		if len(h.TLS.ClientCAs) > 0 {
			tls = append(tls, kv{"clientcas", h.TLS.ClientCAs})
		}
		if len(h.TLS.CipherSuites) > 0 {
			tls = append(tls, kv{"ciphersuites", h.TLS.CipherSuites})
		}
		httpSec = append(httpSec, kv{"tls", tls})
	}
	if h.Debug.Addr != "" {
		httpSec = append(httpSec, kv{"debug", section{{"addr", h.Debug.Addr}}})
	}
	if len(h.Headers) > 0 {
		httpSec = append(httpSec, kv{"headers", map[string][]string(h.Headers)})
	}

	sd := c.Health.StorageDriver
	out := section{
		{"version", c.Version},
		{"log", log},
		{"storage", storage},
		{"http", httpSec},
		{"health", section{{"storagedriver", section{
			{"enabled", sd.Enabled}, {"interval", dur(sd.Interval)}, {"threshold", sd.Threshold},
		}}}},
	}
	if a := c.Auth.Htpasswd; a != nil {
		out = append(out, kv{"auth", section{{"htpasswd", section{{"realm", a.Realm}, {"path", a.Path}}}}})
	}
	return out.node()
}

// kv is one key of a section; section keeps keys in the order written.
type kv struct {
	k string
	v any
}

type section []kv

func (s section) node() (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, e := range s {
		var v *yaml.Node
		var err error
		if sub, ok := e.v.(section); ok {
			v, err = sub.node()
		} else {
			v = &yaml.Node{}
			err = v.Encode(e.v)
		}
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.k}, v)
	}
	return n, nil
}

// dur writes a duration the way config files spell it ("10s", "168h0m0s").
func dur(d time.Duration) string { return d.String() }
