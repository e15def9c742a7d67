package configs

import (
	"errors"
	"fmt"
	"path/filepath"
)

// ErrInvalid is the class of every validation error.
var ErrInvalid = errors.New("invalid configuration")

// ValidateID checks a container id: ASCII letters, digits, '_', '+', '-',
// '.', and not "." or "..", so that it is safe as a directory name. (A
// loop rather than a regexp: every runtime command checks one id, and
// compiling the regexp cost more than the check.)
func ValidateID(id string) error {
	ok := id != "" && id != "." && id != ".." && len(id) <= 1024
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '+' || c == '-' || c == '.'
	}
	if !ok {
		return fmt.Errorf("container id %q: %w", id, ErrInvalid)
	}
	return nil
}

// Validate checks what the init cannot check for itself once it has started.
func (c *Config) Validate() error {
	if c.Rootfs == "" || !filepath.IsAbs(c.Rootfs) {
		return fmt.Errorf("rootfs %q must be an absolute path: %w", c.Rootfs, ErrInvalid)
	}
	seen := map[NamespaceType]bool{}
	for _, ns := range c.Namespaces {
		known := false
		for _, t := range NamespaceOrder {
			known = known || t == ns.Type
		}
		if !known {
			return fmt.Errorf("namespace type %q: %w", ns.Type, ErrInvalid)
		}
		if seen[ns.Type] {
			return fmt.Errorf("namespace %q given twice: %w", ns.Type, ErrInvalid)
		}
		seen[ns.Type] = true
	}
	if c.Hostname != "" && !seen[NEWUTS] {
		return fmt.Errorf("hostname needs a new uts namespace: %w", ErrInvalid)
	}
	if len(c.TimeOffsets) > 0 && !seen[NEWTIME] {
		return fmt.Errorf("time offsets need a time namespace: %w", ErrInvalid)
	}
	for clock := range c.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return fmt.Errorf("time offset for clock %q: %w", clock, ErrInvalid)
		}
	}
	if (len(c.UIDMappings) > 0 || len(c.GIDMappings) > 0) && !seen[NEWUSER] {
		return fmt.Errorf("uid/gid mappings need a user namespace: %w", ErrInvalid)
	}
	if ns, ok := c.Namespaces.Get(NEWUSER); ok && ns.Path == "" && (len(c.UIDMappings) == 0 || len(c.GIDMappings) == 0) {
		return fmt.Errorf("a new user namespace needs uid and gid mappings: %w", ErrInvalid)
	}
	for _, m := range c.Mounts {
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("mount destination %q must be absolute: %w", m.Destination, ErrInvalid)
		}
	}
	if c.Cgroups != nil && c.Cgroups.Resources != nil {
		return c.Cgroups.Resources.Validate()
	}
	return nil
}

// Validate checks the limits whose range the cgroup files do not: a blkio
// weight out of range would be written as is on v1 and wrap in the
// conversion to io.weight on v2.
func (r *Resources) Validate() error {
	if w := r.BlkioWeight; w != 0 && (w < 10 || w > 1000) {
		return fmt.Errorf("blkio weight %d: want 10 to 1000: %w", w, ErrInvalid)
	}
	return nil
}

// Validate checks a process before it is started.
func (p *Process) Validate() error {
	if len(p.Args) == 0 {
		return fmt.Errorf("process args must not be empty: %w", ErrInvalid)
	}
	if p.Cwd != "" && !filepath.IsAbs(p.Cwd) {
		return fmt.Errorf("process cwd %q must be absolute: %w", p.Cwd, ErrInvalid)
	}
	return nil
}
