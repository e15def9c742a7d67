package configs

// Process is what runs inside a container: the init given by the spec, or a
// process added later with exec.
type Process struct {
	Args            []string      `json:"args"`
	Env             []string      `json:"env,omitempty"`
	Cwd             string        `json:"cwd"`
	UID             uint32        `json:"uid"`
	GID             uint32        `json:"gid"`
	AdditionalGids  []uint32      `json:"additional_gids,omitempty"`
	Umask           *uint32       `json:"umask,omitempty"`
	Terminal        bool          `json:"terminal,omitempty"`
	Capabilities    *Capabilities `json:"capabilities,omitempty"`
	Rlimits         []Rlimit      `json:"rlimits,omitempty"`
	NoNewPrivileges bool          `json:"no_new_privileges,omitempty"`
	OomScoreAdj     *int          `json:"oom_score_adj,omitempty"`
	ApparmorProfile string        `json:"apparmor_profile,omitempty"`
	SelinuxLabel    string        `json:"selinux_label,omitempty"`
}

// Seccomp is a seccomp filter: a default action and rules that override it
// for named system calls, optionally only when their arguments match.
type Seccomp struct {
	DefaultAction string        `json:"default_action"`
	DefaultErrno  *uint         `json:"default_errno,omitempty"`
	Architectures []string      `json:"architectures,omitempty"`
	Flags         []string      `json:"flags,omitempty"`
	Syscalls      []SyscallRule `json:"syscalls,omitempty"`
	ListenerPath  string        `json:"listener_path,omitempty"`
}

// SyscallRule applies Action to the named system calls when every Arg matches.
type SyscallRule struct {
	Names    []string `json:"names"`
	Action   string   `json:"action"`
	ErrnoRet *uint    `json:"errno_ret,omitempty"`
	Args     []Arg    `json:"args,omitempty"`
}

// Arg compares one system call argument: Op is one of the spec's SCMP_CMP_*.
type Arg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"value_two,omitempty"`
	Op       string `json:"op"`
}
