package container

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/engine/dockerinit"
	"github.com/wharf-project/wharf/engine/errdefs"
)

// --init runs the container's program under docker-init, a small init in
// wharf's own binary (engine/dockerinit), where dockerd bind-mounts tini.
//
// wharf's binary is dynamically linked (cgo, for libctr's nsenter), and a
// container's rootfs may have no C library at all (busybox) or another
// one. So the init brings its own: at the first --init container the
// daemon puts into <data-root>/init the binary, the dynamic loader it
// names (PT_INTERP) and the libraries it needs (DT_NEEDED, transitively:
// the very files the daemon itself has loaded), and that directory is
// bind-mounted read-only on /dev/.wharf-init, on the container's /dev
// tmpfs, so nothing is added to its rootfs. The program is started
// through the loader, which finds the libraries there and nowhere else:
//
//	/dev/.wharf-init/ld-linux-x86-64.so.2 --inhibit-cache --library-path /dev/.wharf-init \
//	    /dev/.wharf-init/docker-init -- <entrypoint> <cmd>
//
// (ps in the container shows "/dev/.wharf-init/docker-init -- <cmd>":
// the init rewrites its command line.) A statically linked wharf has no
// loader and is run directly. Building a separate static init at build
// time would need a second binary to install; running the host's own
// files keeps it one binary and works in any rootfs.

// initMountPoint is where the init's directory is mounted in containers.
const initMountPoint = "/dev/.wharf-init"

// initFiles is the init's directory on the host and the arguments that
// start it in a container, up to and including "--".
type initFiles struct {
	dir  string
	args []string
}

// initCache holds the prepared init per data root, made once per daemon.
var initCache struct {
	sync.Mutex
	byRoot map[string]*initFiles
}

func (s *Service) dockerInit() (*initFiles, error) {
	initCache.Lock()
	defer initCache.Unlock()
	if f := initCache.byRoot[s.cfg.Root]; f != nil {
		return f, nil
	}
	f, err := prepareInit(filepath.Join(s.cfg.Root, "init"))
	if err != nil {
		return nil, err
	}
	if initCache.byRoot == nil {
		initCache.byRoot = map[string]*initFiles{}
	}
	initCache.byRoot[s.cfg.Root] = f
	return f, nil
}

// applyInit makes the spec of a --init container start its program under
// docker-init.
func (s *Service) applyInit(c *Container, spec *specs.Spec) error {
	if c.HostConfig.Init == nil || !*c.HostConfig.Init {
		return nil
	}
	f, err := s.dockerInit()
	if err != nil {
		return errdefs.System(fmt.Errorf("--init: %w", err))
	}
	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: initMountPoint, Type: "bind", Source: f.dir,
		Options: []string{"rbind", "ro", "nosuid", "nodev", "rprivate"}})
	spec.Process.Args = append(append([]string(nil), f.args...), spec.Process.Args...)
	return nil
}

// started finishes a start once the program runs: a --init container's
// init is waited for until it has started the program (it catches
// signals from then on: a stop sent earlier would find only the Go
// runtime's default handlers, and pid 1 exits 2 on SIGTERM instead of
// passing it on), then the healthcheck begins.
func (s *Service) started(c *Container, l *live, r *run, pid int) {
	if c.HostConfig.Init != nil && *c.HostConfig.Init {
		waitInitReady(pid)
	}
	s.startHealthcheck(c, l, r)
}

// waitInitReady waits until pid has a child, or is gone, or 10 s pass.
func waitInitReady(pid int) {
	deadline := time.Now().Add(10 * time.Second)
	for delay := 100 * time.Microsecond; time.Now().Before(deadline); delay = min(2*delay, 10*time.Millisecond) {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || hasChildren(pid) {
			return
		}
		if i := bytes.LastIndexByte(st, ')'); i < 0 || i+2 >= len(st) || st[i+2] == 'Z' {
			return
		}
		time.Sleep(delay)
	}
}

// hasChildren reports whether pid has a child process: from its threads'
// children files, or, without them (CONFIG_PROC_CHILDREN), from the
// parent pid of every process.
func hasChildren(pid int) bool {
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	if len(files) > 0 {
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && len(bytes.TrimSpace(b)) > 0 {
				return true
			}
		}
		return false
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(b, ')'); i >= 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 1 && f[1] == strconv.Itoa(pid) {
				return true
			}
		}
	}
	return false
}

// prepareInit fills dir (made anew: what an earlier daemon left there is
// no longer used, its containers are gone) with the running binary as
// docker-init, and the loader and libraries it needs, all copies.
func prepareInit(dir string) (*initFiles, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	if err := copyFile(exe, filepath.Join(dir, dockerinit.Name)); err != nil {
		return nil, err
	}
	bin := initMountPoint + "/" + dockerinit.Name
	interp, needed, err := elfDeps(exe)
	if err != nil {
		return nil, err
	}
	if interp == "" {
		return &initFiles{dir: dir, args: []string{bin, "--"}}, nil
	}
	loaded := loadedObjects()
	src, err := filepath.EvalSymlinks(interp)
	if err != nil {
		return nil, fmt.Errorf("dynamic loader %s: %w", interp, err)
	}
	loader := filepath.Base(interp)
	if err := copyFile(src, filepath.Join(dir, loader)); err != nil {
		return nil, err
	}
	seen := map[string]bool{loader: true}
	for len(needed) > 0 {
		name := needed[0]
		needed = needed[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		p, err := findLibrary(name, loaded)
		if err != nil {
			return nil, err
		}
		if err := copyFile(p, filepath.Join(dir, name)); err != nil {
			return nil, err
		}
		_, more, err := elfDeps(p)
		if err != nil {
			return nil, err
		}
		needed = append(needed, more...)
	}
	return &initFiles{dir: dir, args: []string{initMountPoint + "/" + loader, "--inhibit-cache",
		"--library-path", initMountPoint, bin, "--"}}, nil
}

// elfDeps reads an ELF file's interpreter and the libraries it needs.
func elfDeps(path string) (interp string, needed []string, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return "", nil, err
			}
			interp = strings.TrimRight(string(b), "\x00")
		}
	}
	needed, err = f.ImportedLibraries()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return "", nil, err
	}
	return interp, needed, nil
}

// loadedObjects maps the base names of the shared objects mapped into
// this process to their paths.
func loadedObjects() map[string]string {
	out := map[string]string{}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 6 && strings.Contains(fields[5], ".so") {
			out[filepath.Base(fields[5])] = fields[5]
		}
	}
	return out
}

// findLibrary finds a needed library: the file this process loaded under
// that name, or the first one in the loaded objects' directories and the
// usual ones.
func findLibrary(name string, loaded map[string]string) (string, error) {
	if p, ok := loaded[name]; ok {
		return p, nil
	}
	dirs := []string{}
	for _, p := range loaded {
		dirs = append(dirs, filepath.Dir(p))
	}
	dirs = append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
	for _, d := range dirs {
		if p, err := filepath.EvalSymlinks(filepath.Join(d, name)); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("library %s not found", name)
}

// copyFile copies src to dst with its mode. A copy, not a hard link:
// what containers see must never be an inode of the host's (a privileged
// container could remount it writable).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fi.Mode().Perm()|0o444)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
