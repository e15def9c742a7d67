package configuration

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// envPrefix starts every override variable.
const envPrefix = "REGISTRY_"

// sections are the top-level keys of the format. A REGISTRY_* variable
// whose first part names none of them is not a configuration override and
// is ignored (with a warning), as distribution does: Kubernetes and Docker
// links define REGISTRY_PORT, REGISTRY_SERVICE_HOST, ... for a service
// called "registry". A variable that does name a section must name a key
// that exists, or parsing stops.
var sections = map[string]bool{
	"version": true, "log": true, "loglevel": true, "storage": true, "auth": true,
	"http": true, "health": true, "redis": true, "proxy": true, "middleware": true,
	"notifications": true, "reporting": true, "validation": true,
	"compatibility": true, "catalog": true, "policy": true,
}

// applyEnv writes the REGISTRY_* overrides into the YAML tree before it is
// decoded, so an override goes through exactly the checks a key written in
// the file does. REGISTRY_HTTP_TLS_KEY=/k sets http.tls.key: the name after
// the prefix is split at "_" into keys, matched without regard to case and
// created (lower-case) when missing; a number indexes a list (appending
// when it equals the length). The value is parsed as YAML, so
// REGISTRY_STORAGE_DELETE_ENABLED=true is a boolean and
// REGISTRY_HTTP_HEADERS_X-FRAME-OPTIONS=[DENY] a list.
//
// Variables apply in name order, so a whole section
// (REGISTRY_STORAGE=inmemory) is replaced before keys inside it
// (REGISTRY_STORAGE_DELETE_ENABLED) are set.
func (d *decoder) applyEnv(root *yaml.Node, environ []string) error {
	type kv struct{ name, value string }
	var vars []kv
	for _, e := range environ {
		name, value, _ := strings.Cut(e, "=")
		if strings.HasPrefix(name, envPrefix) && len(name) > len(envPrefix) {
			vars = append(vars, kv{name, value})
		}
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].name < vars[j].name })
	for _, v := range vars {
		parts := strings.Split(v.name[len(envPrefix):], "_")
		if !sections[strings.ToLower(parts[0])] {
			d.warn(v.name, "environment variable names no configuration section, ignored")
			continue
		}
		val, err := envValue(v.value)
		if err != nil {
			return &Error{Env: v.name, Msg: err.Error()}
		}
		if err := d.setPath(root, parts, val, v.name); err != nil {
			return err
		}
	}
	return nil
}

// envValue parses an override's value as a YAML document; an empty value
// is null (the key's zero value).
func envValue(s string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
		return nil, fmt.Errorf("value is not valid YAML: %v", err)
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}, nil
	}
	return doc.Content[0], nil
}

// setPath puts val at the key path parts under root, creating sections on
// the way, and remembers which variable wrote that path.
func (d *decoder) setPath(root *yaml.Node, parts []string, val *yaml.Node, name string) error {
	cur, path := root, ""
	for i, part := range parts {
		last := i == len(parts)-1
		cur = deref(cur)
		if part == "" {
			return &Error{Env: name, Key: path, Msg: "empty key in variable name"}
		}
		switch {
		case isNull(cur):
			// a new section; a number in the name makes it a list (CLIENTCAS_0)
			*cur = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			if _, err := strconv.Atoi(part); err == nil {
				*cur = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			}
			d.envCreated(path, name)
		case cur.Kind == yaml.ScalarNode && (path == "storage" || path == "auth"):
			// the short form "storage: inmemory" becomes "storage: {inmemory: }"
			*cur = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
				{Kind: yaml.ScalarNode, Tag: "!!str", Value: cur.Value},
				{Kind: yaml.ScalarNode, Tag: "!!null"},
			}}
		case cur.Kind == yaml.ScalarNode:
			return &Error{Env: name, Key: path, Msg: "is a value, not a section: cannot set " + strings.ToLower(part) + " inside it"}
		}
		var next **yaml.Node
		if cur.Kind == yaml.SequenceNode {
			idx, err := strconv.Atoi(part)
			if err != nil || idx < 0 || idx > len(cur.Content) {
				return &Error{Env: name, Key: path, Msg: fmt.Sprintf("is a list: expected an index from 0 to %d, got %q", len(cur.Content), part)}
			}
			appended := idx == len(cur.Content)
			if appended {
				cur.Content = append(cur.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"})
			}
			next, path = &cur.Content[idx], fmt.Sprintf("%s[%d]", path, idx)
			if appended {
				d.envCreated(path, name)
			}
		} else {
			for j := 0; j+1 < len(cur.Content); j += 2 {
				if k := deref(cur.Content[j]); strings.EqualFold(k.Value, part) {
					next, path = &cur.Content[j+1], join(path, k.Value)
					break
				}
			}
			if next == nil {
				key := strings.ToLower(part)
				cur.Content = append(cur.Content,
					&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
					&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"})
				next, path = &cur.Content[len(cur.Content)-1], join(path, key)
				d.envCreated(path, name)
			}
		}
		if last {
			*next = val
		} else {
			cur = *next
		}
	}
	d.envPaths[path] = name
	return nil
}

// envCreated notes that the variable name brought the section at path into
// being, so errors about the section (say "proxy: not supported" for
// REGISTRY_PROXY_REMOTEURL) name the variable. The first variable wins.
func (d *decoder) envCreated(path, name string) {
	if _, ok := d.envPaths[path]; !ok && path != "" {
		d.envPaths[path] = name
	}
}
