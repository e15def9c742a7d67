package configuration

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultYAML is the config.yml the registry:2 image ships, used by
// `wharf registry serve` when it is given no configuration.
//
//go:embed default.yml
var DefaultYAML []byte

// Configuration is a parsed, validated and defaulted registry configuration
// (distribution's version 0.1 format). See the package documentation for
// every key and its default.
type Configuration struct {
	Version string
	Log     struct {
		Level     string         // error, warn, info (default) or debug
		Formatter string         // text (default), json or logstash
		Fields    map[string]any // static fields added to every log line
		AccessLog struct{ Disabled bool }
	}
	Storage Storage
	HTTP    HTTP
	Health  Health
	Auth    Auth

	// Warnings lists accepted-but-ignored input worth logging at start:
	// sections wharf does not act on (notifications, reporting, ...) and
	// REGISTRY_* environment variables that name no configuration section.
	Warnings []string
}

// Storage selects the storage driver and the storage-wide options.
type Storage struct {
	Driver      string         // "filesystem" or "inmemory": the one driver section present
	Params      map[string]any // the driver's parameters (filesystem: rootdirectory, maxthreads)
	Delete      struct{ Enabled bool }
	Maintenance struct {
		ReadOnly      struct{ Enabled bool }
		UploadPurging struct {
			Enabled       bool
			Age, Interval time.Duration
			DryRun        bool
		}
	}
	Redirect struct{ Disable bool }
	Cache    map[string]any // blobdescriptor: inmemory|redis (wharf caches in memory either way)
}

// HTTP configures the registry's listener and responses.
type HTTP struct {
	Addr, Net, Prefix, Host, Secret string
	RelativeURLs                    bool
	DrainTimeout                    time.Duration
	TLS                             struct {
		Certificate, Key string
		ClientCAs        []string
		MinimumTLS       string   // tls1.0 .. tls1.3; "tls1.2" when TLS is on and it is unset
		CipherSuites     []string // Go names (crypto/tls), empty for Go's defaults
	}
	Debug   struct{ Addr string }
	Headers http.Header // added to every response
}

// Health configures the periodic storage driver health check.
type Health struct {
	StorageDriver struct {
		Enabled   bool
		Interval  time.Duration
		Threshold int
	}
}

// Auth configures access control. Only htpasswd is supported; nil means
// no authentication.
type Auth struct {
	Htpasswd *struct{ Realm, Path string }
}

// Error is a configuration error. Key is the dotted path of the offending
// key as written in config.yml (e.g. "storage.filesystem.rootdirectory");
// Env is the REGISTRY_* variable that supplied it, if one did.
type Error struct {
	Key string
	Env string
	Msg string
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Key != "" {
		s = e.Key + ": " + s
	}
	if e.Env != "" {
		s = e.Env + ": " + s
	}
	return s
}

// ErrInvalid is the class of every error Parse returns for a bad
// configuration (errors.Is(err, ErrInvalid)); it is not returned for
// failures to read the input.
var ErrInvalid = errors.New("invalid registry configuration")

// Is makes every *Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Parse reads a config.yml, applies REGISTRY_* overrides from the process
// environment, validates it and fills in defaults.
func Parse(r io.Reader) (*Configuration, error) {
	return ParseWithEnv(r, os.Environ())
}

// ParseWithEnv is Parse with an explicit environment ("KEY=value" entries).
// A nil environment applies no overrides.
func ParseWithEnv(r io.Reader, environ []string) (*Configuration, error) {
	in, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading registry configuration: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(in, &doc); err != nil {
		return nil, &Error{Msg: "not valid YAML: " + err.Error()}
	}
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	d := newDecoder()
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Msg: "expected a mapping at the top level"}
	}
	if err := d.applyEnv(root, environ); err != nil {
		return nil, err
	}
	c := &Configuration{}
	d.top(root, c)
	finish(c, d)
	if d.err != nil {
		return nil, d.err
	}
	c.Warnings = d.warnings
	return c, nil
}

// Default returns the embedded default configuration (DefaultYAML), parsed
// without environment overrides.
func Default() *Configuration {
	c, err := ParseWithEnv(bytes.NewReader(DefaultYAML), nil)
	if err != nil {
		panic("registry/configuration: embedded default does not parse: " + err.Error())
	}
	return c
}
