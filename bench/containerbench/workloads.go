package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// daemon is one daemon under test, reached through the docker CLI.
type daemon struct {
	Name, Host, CLI string
}

// docker runs the CLI against the daemon and returns its combined output.
func (d daemon) docker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.CLI, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.Host)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s: docker %s: %v: %s", d.Name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// timed runs the CLI and returns how long it took, in milliseconds.
func (d daemon) timed(args ...string) (float64, error) {
	t0 := time.Now()
	_, err := d.docker(args...)
	return float64(time.Since(t0).Microseconds()) / 1000, err
}

// runArgs is `docker run` on no network without pulling.
func runArgs(args ...string) []string {
	return append([]string{"run", "--pull=never", "--network", "none"}, args...)
}

// Container names the benchmark creates (removed by cleanup).
const (
	execName  = "cbench-exec"
	stopName  = "cbench-stop"
	stopShell = `trap "exit 42" TERM; echo ready; sleep 100000 & wait`
)

type bench struct{ daemons []daemon }

// prepare checks both daemons have busybox and starts the exec target.
func (b *bench) prepare() error {
	b.cleanup()
	for _, d := range b.daemons {
		if _, err := d.docker("image", "inspect", "busybox"); err != nil {
			return err
		}
		if _, err := d.docker(runArgs("-d", "--name", execName, "busybox", "sleep", "100000")...); err != nil {
			return err
		}
	}
	return nil
}

// cleanup removes what the benchmark made, ignoring what is not there.
func (b *bench) cleanup() {
	for _, d := range b.daemons {
		_, _ = d.docker("rm", "-f", execName, stopName)
	}
}

func (b *bench) runOnce(d daemon, _ int) (float64, error) {
	return d.timed(runArgs("--rm", "busybox", "true")...)
}

func (b *bench) execOnce(d daemon, _ int) (float64, error) {
	return d.timed("exec", execName, "true")
}

func (b *bench) versionOnce(d daemon, _ int) (float64, error) {
	return d.timed("version")
}

// stopOnce starts a container whose shell exits with 42 on SIGTERM, waits
// until its trap is set, and times `docker stop`. An exit code other than
// 42 means the daemon killed it instead, and the number would be wrong.
func (b *bench) stopOnce(d daemon, _ int) (float64, error) {
	if _, err := d.docker(runArgs("-d", "--name", stopName, "busybox", "sh", "-c", stopShell)...); err != nil {
		return 0, err
	}
	defer d.docker("rm", "-f", stopName)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := d.docker("logs", stopName)
		if err == nil && strings.Contains(out, "ready") {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s: the stop target never got ready: %v %q", d.Name, err, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ms, err := d.timed("stop", stopName)
	if err != nil {
		return 0, err
	}
	code, err := d.docker("inspect", "-f", "{{.State.ExitCode}}", stopName)
	if err != nil {
		return 0, err
	}
	if c := strings.TrimSpace(code); c != "42" {
		return 0, fmt.Errorf("%s: the stopped container exited %s, not by its trap (42)", d.Name, c)
	}
	return ms, nil
}

// parallelOnce starts n `docker run --rm busybox true` at once and times
// until the last has exited; every one must succeed.
func (b *bench) parallelOnce(d daemon, _ int, n int) (float64, error) {
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = d.docker(runArgs("--rm", "busybox", "true")...)
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	ms := float64(time.Since(t0).Microseconds()) / 1000
	return ms, errors.Join(errs...)
}
