// Package configs is the runtime's own description of a container: plain data
// with JSON tags, no behaviour beyond validation. The OCI runtime spec is
// converted into these types in exactly one place (package specconv); every
// other part of libctr reads only these.
//
// A Config travels from the parent to the container's init over the init pipe
// as JSON, and is kept in the container's state directory so that a later
// process (wharf runtime state, kill, exec, ...) can load the container again.
package configs

// NamespaceType names a Linux namespace the way /proc/<pid>/ns spells it.
type NamespaceType string

// The namespaces a container can have.
const (
	NEWNS     NamespaceType = "mnt"
	NEWPID    NamespaceType = "pid"
	NEWUTS    NamespaceType = "uts"
	NEWIPC    NamespaceType = "ipc"
	NEWNET    NamespaceType = "net"
	NEWUSER   NamespaceType = "user"
	NEWCGROUP NamespaceType = "cgroup"
	NEWTIME   NamespaceType = "time"
)

// NamespaceOrder is the order in which namespaces are joined: user first, so
// that the rest are joined with the capabilities it grants; mnt last, because
// joining it changes the meaning of every path after it.
var NamespaceOrder = []NamespaceType{NEWUSER, NEWIPC, NEWUTS, NEWNET, NEWPID, NEWCGROUP, NEWTIME, NEWNS}

// Namespace is one namespace of the container. An empty Path asks for a new
// namespace; a Path (such as /proc/123/ns/net) joins an existing one.
type Namespace struct {
	Type NamespaceType `json:"type"`
	Path string        `json:"path,omitempty"`
}

// Namespaces is the list of a container's namespaces, at most one per type.
type Namespaces []Namespace

// Contains reports whether the list has a namespace of type t.
func (n Namespaces) Contains(t NamespaceType) bool {
	_, ok := n.Get(t)
	return ok
}

// Get returns the namespace of type t.
func (n Namespaces) Get(t NamespaceType) (Namespace, bool) {
	for _, ns := range n {
		if ns.Type == t {
			return ns, true
		}
	}
	return Namespace{}, false
}

// IDMap maps a range of ids inside a user namespace to ids outside it.
type IDMap struct {
	ContainerID int64 `json:"container_id"`
	HostID      int64 `json:"host_id"`
	Size        int64 `json:"size"`
}

// Mount is one mount made inside the container's root filesystem.
// Destination is a path inside the container. Device is the filesystem type
// ("bind" for bind mounts). Flags and PropagationFlags are MS_* values;
// Data is the filesystem-specific option string.
type Mount struct {
	Source           string   `json:"source"`
	Destination      string   `json:"destination"`
	Device           string   `json:"device"`
	Flags            int      `json:"flags,omitempty"`
	ClearedFlags     int      `json:"cleared_flags,omitempty"`
	PropagationFlags []int    `json:"propagation_flags,omitempty"`
	Data             string   `json:"data,omitempty"`
	Options          []string `json:"options,omitempty"` // the original options, for the record
}

// Device is a device node created in the container's /dev.
type Device struct {
	Type     rune   `json:"type"` // 'c', 'b' or 'p'
	Path     string `json:"path"`
	Major    int64  `json:"major"`
	Minor    int64  `json:"minor"`
	FileMode uint32 `json:"file_mode"`
	UID      uint32 `json:"uid"`
	GID      uint32 `json:"gid"`
}

// Capabilities are the five capability sets, as names like "CAP_CHOWN".
type Capabilities struct {
	Bounding    []string `json:"bounding,omitempty"`
	Effective   []string `json:"effective,omitempty"`
	Inheritable []string `json:"inheritable,omitempty"`
	Permitted   []string `json:"permitted,omitempty"`
	Ambient     []string `json:"ambient,omitempty"`
}

// Rlimit is one resource limit; Type is an RLIMIT_* number.
type Rlimit struct {
	Type int    `json:"type"`
	Hard uint64 `json:"hard"`
	Soft uint64 `json:"soft"`
}

// Hook is a program run at a point of the container's lifecycle, with the
// container's state JSON on its stdin.
type Hook struct {
	Path    string   `json:"path"`
	Args    []string `json:"args,omitempty"`
	Env     []string `json:"env,omitempty"`
	Timeout *int     `json:"timeout,omitempty"`
}

// Hooks are the lifecycle hooks of the OCI spec that libctr runs.
type Hooks struct {
	Prestart        []Hook `json:"prestart,omitempty"`
	CreateRuntime   []Hook `json:"create_runtime,omitempty"`
	CreateContainer []Hook `json:"create_container,omitempty"`
	StartContainer  []Hook `json:"start_container,omitempty"`
	Poststart       []Hook `json:"poststart,omitempty"`
	Poststop        []Hook `json:"poststop,omitempty"`
}

// Config is everything about a container except the process it runs.
type Config struct {
	Rootfs          string `json:"rootfs"`
	Readonlyfs      bool   `json:"readonlyfs,omitempty"`
	RootPropagation int    `json:"root_propagation,omitempty"`
	NoPivotRoot     bool   `json:"no_pivot_root,omitempty"`
	// NoNewKeyring leaves the processes the runtime caller's session
	// keyring instead of one of the container's own (runc's
	// --no-new-keyring).
	NoNewKeyring  bool              `json:"no_new_keyring,omitempty"`
	Hostname      string            `json:"hostname,omitempty"`
	Domainname    string            `json:"domainname,omitempty"`
	Namespaces    Namespaces        `json:"namespaces"`
	UIDMappings   []IDMap           `json:"uid_mappings,omitempty"`
	GIDMappings   []IDMap           `json:"gid_mappings,omitempty"`
	Mounts        []Mount           `json:"mounts,omitempty"`
	Devices       []Device          `json:"devices,omitempty"`
	MaskPaths     []string          `json:"mask_paths,omitempty"`
	ReadonlyPaths []string          `json:"readonly_paths,omitempty"`
	Sysctl        map[string]string `json:"sysctl,omitempty"`
	OomScoreAdj   *int              `json:"oom_score_adj,omitempty"`
	Cgroups       *Cgroup           `json:"cgroups"`
	Seccomp       *Seccomp          `json:"seccomp,omitempty"`
	Hooks         Hooks             `json:"hooks,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"` // the spec's annotations
	Version       string            `json:"version"`          // the spec's ociVersion
	MountLabel    string            `json:"mount_label,omitempty"`
	Personality   string            `json:"personality,omitempty"`
	// TimeOffsets shift the clocks ("monotonic", "boottime") of a new
	// time namespace.
	TimeOffsets map[string]TimeOffset `json:"time_offsets,omitempty"`
}

// TimeOffset is how far a clock of a time namespace is moved.
type TimeOffset struct {
	Secs     int64  `json:"secs"`
	Nanosecs uint32 `json:"nanosecs"`
}
