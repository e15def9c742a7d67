package main

// wharf runtime: a runc-compatible OCI runtime CLI on top of libctr.
// Same command names, flags, state JSON and exit codes as runc, so that
// tools written for runc (and the OCI runtime-tools validation suite) can
// drive it:
//
//	wharf runtime spec                      # writes ./config.json
//	wharf runtime create -b <bundle> <id>   # status "created"
//	wharf runtime start <id>                # status "running"
//	wharf runtime state <id>                # runc's state JSON
//	wharf runtime kill <id> KILL
//	wharf runtime delete <id>

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/internal/jsonlite"
	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/cgroups"
	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/specconv"
)

// runtimeOpts are the global flags of `wharf runtime`.
var runtimeOpts struct {
	root          string
	log           string
	logFormat     string
	systemdCgroup bool
	debug         bool
	criu          string
}

var runtimeCmd = &cobra.Command{
	Use:   "runtime",
	Short: "Run OCI containers (a runc-compatible CLI)",
	PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
		if runtimeOpts.systemdCgroup {
			return errors.New("--systemd-cgroup is not supported: wharf manages cgroupfs directly")
		}
		// No runtime command changes a thread for good, which is what
		// the main thread is kept from (mainthread_linux.go); a main
		// goroutine locked to it makes each of its waits in the poller
		// a hand-over between two threads (~0.1 ms per `run` here).
		runtime.UnlockOSThread()
		return setupRuntimeLog()
	},
}

func init() { addCommand("runtime", addRuntimeCmd) }

func addRuntimeCmd() {
	f := runtimeCmd.PersistentFlags()
	f.StringVar(&runtimeOpts.root, "root", "/run/wharf/runtime", "directory for the containers' state")
	f.StringVar(&runtimeOpts.log, "log", "", "also write errors (and --debug messages) to this file, as runc does for containerd")
	f.StringVar(&runtimeOpts.logFormat, "log-format", "text", "log format: text or json")
	f.BoolVar(&runtimeOpts.systemdCgroup, "systemd-cgroup", false, "use systemd for cgroups (not supported)")
	f.BoolVar(&runtimeOpts.debug, "debug", false, "log debug messages")
	f.StringVar(&runtimeOpts.criu, "criu", "criu", "path to the criu binary for checkpoint and restore")
	rootCmd.AddCommand(runtimeCmd)
}

// runtimeLog is where errors are logged besides being returned; runc's
// callers (containerd, runtime-tools) read the --log file.
var runtimeLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func setupRuntimeLog() error {
	var w io.Writer = os.Stderr
	if runtimeOpts.log != "" {
		f, err := os.OpenFile(runtimeOpts.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("--log: %w", err)
		}
		w = f
	} else {
		w = io.Discard // errors reach stderr through main already
	}
	level := slog.LevelInfo
	if runtimeOpts.debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	switch runtimeOpts.logFormat {
	case "text":
		runtimeLog = slog.New(slog.NewTextHandler(w, opts))
	case "json":
		runtimeLog = slog.New(slog.NewJSONHandler(w, opts))
	default:
		return fmt.Errorf("--log-format %q: want text or json", runtimeOpts.logFormat)
	}
	return nil
}

// logged records err in the --log file and returns it for main to print.
func logged(err error) error {
	if err != nil {
		runtimeLog.Error("runtime command failed", "error", err.Error())
	}
	return err
}

func runtimeFactory() (*libctr.Factory, error) {
	f, err := libctr.New(runtimeOpts.root)
	if err != nil {
		return nil, err
	}
	f.CriuPath = runtimeOpts.criu
	return f, nil
}

func loadContainer(id string) (*libctr.Container, error) {
	f, err := runtimeFactory()
	if err != nil {
		return nil, err
	}
	return f.Load(id)
}

// runcState is the JSON `runc state` and `runc list --format json` print.
type runcState struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

// MarshalJSON is json.Marshal of the tags above, without reflection (a
// `state` is a new process, for which encoding/json's field tables cost
// more than the rest of the printing).
func (s runcState) MarshalJSON() ([]byte, error) {
	created, err := s.Created.MarshalJSON()
	if err != nil {
		return nil, err
	}
	w := &jsonlite.Writer{B: make([]byte, 0, 512)}
	w.Open('{')
	w.StringMember("ociVersion", s.Version, jsonlite.KeepEmpty)
	w.StringMember("id", s.ID, jsonlite.KeepEmpty)
	w.IntMember("pid", int64(s.Pid), jsonlite.KeepEmpty)
	w.StringMember("status", s.Status, jsonlite.KeepEmpty)
	w.StringMember("bundle", s.Bundle, jsonlite.KeepEmpty)
	w.StringMember("rootfs", s.Rootfs, jsonlite.KeepEmpty)
	w.Key("created")
	w.Raw(created)
	if len(s.Annotations) > 0 {
		w.Key("annotations")
		jsonlite.WriteMap(w, s.Annotations, (*jsonlite.Writer).String)
	}
	w.StringMember("owner", s.Owner, jsonlite.KeepEmpty)
	w.Close('}')
	return w.B, nil
}

func stateOf(c *libctr.Container) runcState {
	st, s := c.State(), c.Status()
	rs := runcState{Version: st.Config.Version, ID: c.ID(), Pid: st.InitPid, Status: s.String(), Bundle: st.Bundle,
		Rootfs: st.Config.Rootfs, Created: st.Created, Annotations: st.Config.Labels, Owner: st.Owner}
	if s == libctr.Stopped {
		rs.Pid = 0
	}
	return rs
}

func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writePidFile writes pid atomically, as runc does, so a reader never sees
// a half-written file.
func writePidFile(path string, pid int) error {
	if path == "" {
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, abs)
}

// parseSignal accepts "KILL", "SIGKILL", "kill" and "9".
func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return syscall.Signal(n), nil
	}
	name := "SIG" + strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if n := unix.SignalNum(name); n != 0 {
		return n, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

// bundleSpec is a bundle's config.json converted for libctr.
type bundleSpec struct {
	bundle string
	cfg    *configs.Config
	proc   *configs.Process
}

// bundleConfig loads <bundle>/config.json and converts it for libctr
// container id.
func bundleConfig(bundle, id string) (*bundleSpec, error) {
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, err
	}
	spec, err := specconv.LoadSpec(abs)
	if err != nil {
		return nil, err
	}
	cfg, proc, err := specconv.ToConfig(spec, specconv.Options{ID: id, Bundle: abs})
	if err != nil {
		return nil, err
	}
	return &bundleSpec{bundle: abs, cfg: cfg, proc: proc}, nil
}

// libctrCgroupStats is the cgroup part of a stats event.
type libctrCgroupStats = cgroups.Stats

func readAll(r io.Reader) ([]byte, error) { return io.ReadAll(r) }
