package configuration

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks the YAML node tree (after environment overrides were
// applied to it) section by section. Every handler knows the dotted path of
// the node it decodes, so each error names its key. The first error wins:
// handlers record it and later handlers do nothing, which keeps the section
// code free of error plumbing.
type decoder struct {
	err      error
	warnings []string
	set      map[string]bool   // key paths present in the input, to tell "absent" from "zero"
	envPaths map[string]string // key path -> REGISTRY_* variable that wrote it
	hasRedis bool              // a non-empty top-level redis section is present
}

func newDecoder() *decoder {
	return &decoder{set: map[string]bool{}, envPaths: map[string]string{}}
}

// fail records the first error, attributing it to the environment variable
// that supplied the key (or an enclosing section) if one did.
func (d *decoder) fail(path, format string, args ...any) {
	if d.err != nil {
		return
	}
	d.err = &Error{Key: path, Env: d.envFor(path), Msg: fmt.Sprintf(format, args...)}
}

// envFor returns the variable that wrote path or its closest enclosing key.
func (d *decoder) envFor(path string) string {
	best, name := -1, ""
	for p, v := range d.envPaths {
		if p == path || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			if len(p) > best || (len(p) == best && v < name) {
				best, name = len(p), v
			}
		}
	}
	return name
}

func (d *decoder) warn(path, msg string) {
	d.warnings = append(d.warnings, path+": "+msg)
}

// handler decodes the value node found at path.
type handler func(n *yaml.Node, path string)

// fields maps the keys a section accepts to their handlers. The key "*", if
// present, handles every key not listed (used for storage driver names).
type fields map[string]handler

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// deref follows YAML aliases (*name) to the anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// isEmpty reports whether n carries no setting at all: null, {} or [].
func isEmpty(n *yaml.Node) bool {
	n = deref(n)
	return isNull(n) || ((n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && len(n.Content) == 0)
}

// mapping decodes a section: every key must be known to f, at most once.
// A null section (a key with nothing under it) is an empty one.
func (d *decoder) mapping(n *yaml.Node, path string, f fields) {
	n = deref(n)
	if d.err != nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(path, "expected a mapping of keys")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content) && d.err == nil; i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(path, "keys must be plain strings")
			return
		}
		p := join(path, k.Value)
		if seen[k.Value] {
			d.fail(p, "duplicate key")
			return
		}
		seen[k.Value] = true
		h, ok := f[k.Value]
		if !ok {
			h, ok = f["*"]
		}
		if !ok {
			d.fail(p, "unknown key")
			return
		}
		d.set[p] = true
		h(v, p)
	}
}

// scalar returns the scalar node at n, or fails with "expected <what>".
func (d *decoder) scalar(n *yaml.Node, path, what string) (*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		d.fail(path, "expected %s", what)
		return nil, false
	}
	return n, true
}

// str accepts any scalar, as distribution does ("addr: 5000" is "5000").
func (d *decoder) str(dst *string) handler {
	return func(n *yaml.Node, path string) {
		if s, ok := d.scalar(n, path, "string"); ok && s.ShortTag() != "!!null" {
			*dst = s.Value
		}
	}
}

// yaml11Bools are the YAML 1.1 spellings distribution's YAML library
// accepts for booleans besides true and false.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

func (d *decoder) boolean(dst *bool) handler {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path, "boolean (true or false)")
		if !ok {
			return
		}
		switch {
		case s.ShortTag() == "!!null":
		case s.ShortTag() == "!!bool":
			if err := s.Decode(dst); err != nil {
				d.fail(path, "expected boolean (true or false)")
			}
		case s.Style == 0 && s.ShortTag() == "!!str":
			if v, ok := yaml11Bools[s.Value]; ok {
				*dst = v
				return
			}
			d.fail(path, "expected boolean (true or false), got %q", s.Value)
		default:
			d.fail(path, "expected boolean (true or false), got %q", s.Value)
		}
	}
}

func (d *decoder) integer(dst *int) handler {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path, "integer")
		if !ok || s.ShortTag() == "!!null" {
			return
		}
		if s.ShortTag() != "!!int" || s.Decode(dst) != nil {
			d.fail(path, "expected integer, got %q", s.Value)
		}
	}
}

// duration accepts Go duration strings ("10s", "1h30m") and plain integers,
// which are nanoseconds: distribution's YAML library decodes them that way.
func (d *decoder) duration(dst *time.Duration) handler {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path, "duration such as 10s")
		if !ok {
			return
		}
		switch s.ShortTag() {
		case "!!null":
		case "!!int":
			var ns int64
			if err := s.Decode(&ns); err != nil {
				d.fail(path, "expected duration such as 10s, got %q", s.Value)
				return
			}
			*dst = time.Duration(ns)
		case "!!str":
			v, err := time.ParseDuration(s.Value)
			if err != nil {
				d.fail(path, "expected duration such as 10s, got %q", s.Value)
				return
			}
			*dst = v
		default:
			d.fail(path, "expected duration such as 10s, got %q", s.Value)
		}
	}
}

// strings decodes a list of scalars.
func (d *decoder) strings(dst *[]string) handler {
	return func(n *yaml.Node, path string) {
		n = deref(n)
		if isNull(n) {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.fail(path, "expected a list of strings, e.g. [a, b]")
			return
		}
		out := make([]string, 0, len(n.Content))
		for i, e := range n.Content {
			var s string
			d.str(&s)(e, fmt.Sprintf("%s[%d]", path, i))
			out = append(out, s)
		}
		*dst = out
	}
}

// anyMap decodes a free-form mapping (log fields, cache options).
func (d *decoder) anyMap(dst *map[string]any) handler {
	return func(n *yaml.Node, path string) {
		n = deref(n)
		if isNull(n) {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.fail(path, "expected a mapping of keys")
			return
		}
		m := map[string]any{}
		if err := n.Decode(&m); err != nil {
			d.fail(path, "%v", err)
			return
		}
		*dst = m
	}
}

// headers decodes "Name: [value, ...]" pairs; names are canonicalized.
func (d *decoder) headers(dst *http.Header) handler {
	return func(n *yaml.Node, path string) {
		n = deref(n)
		if isNull(n) {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.fail(path, "expected a mapping of header names to lists of values")
			return
		}
		h := http.Header{}
		for i := 0; i+1 < len(n.Content) && d.err == nil; i += 2 {
			name := deref(n.Content[i]).Value
			var vals []string
			d.strings(&vals)(n.Content[i+1], join(path, name))
			for _, s := range vals {
				h.Add(name, s)
			}
		}
		*dst = h
	}
}

// ignore accepts a section wharf does not act on, noting it when it is set.
func (d *decoder) ignore(n *yaml.Node, path string) {
	if !isEmpty(n) {
		d.warn(path, "accepted but not used by wharf")
	}
}

// refuse rejects a section wharf does not implement, unless it is empty.
func (d *decoder) refuse(why string) handler {
	return func(n *yaml.Node, path string) {
		if !isEmpty(n) {
			d.fail(path, "not supported by wharf (%s)", why)
		}
	}
}

// keys returns the sorted keys of f, for "supported: a, b" messages.
func keys[V any](m map[string]V) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
