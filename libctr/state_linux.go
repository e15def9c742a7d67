package libctr

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-project/wharf/internal/jsonlite"
	"github.com/wharf-project/wharf/libctr/configs"
	"golang.org/x/sys/unix"
)

const (
	stateFile = "state.json"
	fifoName  = "exec.fifo"
	exitName  = "exit" // the monitor writes the init's exit code here
)

// Status is where a container is in its lifecycle.
type Status int

// The statuses, named as the OCI runtime spec names them.
const (
	Creating Status = iota
	Created
	Running
	Paused
	Stopped
)

func (s Status) String() string {
	return [...]string{"creating", "created", "running", "paused", "stopped"}[s]
}

// State is what is kept in state.json.
type State struct {
	ID            string         `json:"id"`
	InitPid       int            `json:"init_pid"`
	InitStartTime uint64         `json:"init_start_time"` // from /proc/<pid>/stat: tells a reused pid apart
	Created       time.Time      `json:"created"`
	Config        configs.Config `json:"config"`
	Bundle        string         `json:"bundle,omitempty"`
	// InitProcess is the process the container was started with: exec
	// takes its defaults (env, user, capabilities) from it.
	InitProcess *configs.Process `json:"init_process,omitempty"`
	Owner       string           `json:"owner,omitempty"`
	// MonitorPid is the init's monitor, when it has one (Factory.Monitor).
	MonitorPid       int    `json:"monitor_pid,omitempty"`
	MonitorStartTime uint64 `json:"monitor_start_time,omitempty"`
	// CgroupPaths are the cgroup's directories (cgroups.Manager.Paths), so
	// that loading the container needs no scan of the mounts.
	CgroupPaths map[string]string `json:"cgroup_paths,omitempty"`
}

// OCIState is the state JSON of the runtime spec (hooks' stdin).
type OCIState struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid,omitempty"`
	Bundle      string            `json:"bundle"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// plainState is State without its methods, for encoding/json's fallback.
type plainState State

// MarshalJSON is json.Marshal of the struct tags, without reflection: a
// runtime command is a new process, and encoding/json's first use of the
// config's types costs more than the command's work (see
// internal/jsonlite).
func (s State) MarshalJSON() ([]byte, error) {
	w := &jsonlite.Writer{B: make([]byte, 0, 4096)}
	w.Open('{')
	w.StringMember("id", s.ID, jsonlite.KeepEmpty)
	w.IntMember("init_pid", int64(s.InitPid), jsonlite.KeepEmpty)
	w.UintMember("init_start_time", s.InitStartTime, jsonlite.KeepEmpty)
	created, err := s.Created.MarshalJSON()
	if err != nil {
		return nil, err
	}
	w.Key("created")
	w.Raw(created)
	w.Key("config")
	s.Config.WriteJSON(w)
	w.StringMember("bundle", s.Bundle, jsonlite.OmitEmpty)
	if s.InitProcess != nil {
		w.Key("init_process")
		s.InitProcess.WriteJSON(w)
	}
	w.StringMember("owner", s.Owner, jsonlite.OmitEmpty)
	w.IntMember("monitor_pid", int64(s.MonitorPid), jsonlite.OmitEmpty)
	w.UintMember("monitor_start_time", s.MonitorStartTime, jsonlite.OmitEmpty)
	if len(s.CgroupPaths) > 0 {
		w.Key("cgroup_paths")
		jsonlite.WriteMap(w, s.CgroupPaths, (*jsonlite.Writer).String)
	}
	w.Close('}')
	return w.B, nil
}

// UnmarshalJSON is json.Unmarshal of the struct tags, without reflection
// for what MarshalJSON writes (anything else goes to encoding/json).
func (s *State) UnmarshalJSON(b []byte) error {
	if jsonlite.Decode(b, s, (*State).readJSON) {
		return nil
	}
	return json.Unmarshal(b, (*plainState)(s))
}

// readJSON reads what MarshalJSON writes.
func (s *State) readJSON(r *jsonlite.Reader) {
	for k := range r.Object() {
		switch k {
		case "id":
			jsonlite.String(r, &s.ID)
		case "init_pid":
			jsonlite.Int(r, &s.InitPid)
		case "init_start_time":
			jsonlite.Uint(r, &s.InitStartTime)
		case "created":
			if raw := r.Raw(); r.Err() == nil && s.Created.UnmarshalJSON(raw) != nil {
				r.Fail()
			}
		case "config":
			s.Config.ReadJSON(r)
		case "bundle":
			jsonlite.String(r, &s.Bundle)
		case "init_process":
			jsonlite.Ptr(r, &s.InitProcess, func(r *jsonlite.Reader, p *configs.Process) { p.ReadJSON(r) })
		case "owner":
			jsonlite.String(r, &s.Owner)
		case "monitor_pid":
			jsonlite.Int(r, &s.MonitorPid)
		case "monitor_start_time":
			jsonlite.Uint(r, &s.MonitorStartTime)
		case "cgroup_paths":
			jsonlite.Map(r, &s.CgroupPaths, jsonlite.String[string])
		default:
			r.Fail()
		}
	}
}

func (c *Container) save() error {
	commit, err := c.prepareSave()
	if err != nil {
		return err
	}
	return commit()
}

// prepareSave writes the state to a file of its own beside state.json and
// returns what puts it in place, atomically: the writing can happen before
// the state may be seen (while the init sets up). Each save has its own
// file, so that two at once cannot swap each other's back.
func (c *Container) prepareSave() (commit func() error, err error) {
	b, err := c.state.MarshalJSON()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(c.dir, stateFile+".*.tmp")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	return func() error { return replaceFile(tmp, filepath.Join(c.dir, stateFile)) }, nil
}

// replaceFile renames tmp to name, atomically for readers of name. Where
// name exists it trades the two (RENAME_EXCHANGE) and removes the old
// content, now under tmp, instead of renaming over name: on ext4 a file
// renamed over another is written out at once (auto_da_alloc, so that it
// survives a crash), and its blocks, once it is removed, are freed with a
// discard the unlink waits for where the filesystem is mounted with
// "discard" (60-150 us on this VM's disk, in every `delete`). State lives
// no longer than the machine's uptime (runc keeps it on /run), so it is
// left to ordinary writeback like any other file (a crash can then leave
// it empty: `delete --force` removes a container whose state is corrupt).
// A failed removal of the old content leaves a temporary file, which
// removeStateDir removes with the rest.
func replaceFile(tmp, name string) error {
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, name, unix.RENAME_EXCHANGE)
	switch err {
	case nil:
		_ = unix.Unlink(tmp)
		return nil
	case unix.ENOENT, unix.EINVAL, unix.ENOSYS, unix.EOPNOTSUPP, unix.EPERM:
		// name is missing, or no exchange here (an old kernel, a
		// filesystem without it, a seccomp profile refusing renameat2)
		return os.Rename(tmp, name)
	}
	return &os.LinkError{Op: "rename", Old: tmp, New: name, Err: err}
}

// procStat returns the state letter and start time (field 22) of pid.
func procStat(pid int) (state byte, start uint64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name (field 2) may hold spaces and parentheses: fields
	// are counted after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, 0, false
	}
	start, _ = strconv.ParseUint(f[19], 10, 64)
	return f[0][0], start, true
}

// alive reports whether pid is still the process that started at start.
func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, s, ok := procStat(pid)
	return ok && st != 'Z' && st != 'X' && (start == 0 || s == start)
}
