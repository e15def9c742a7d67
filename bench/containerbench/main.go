// Command containerbench measures container operations through the docker
// CLI against two daemons side by side (bench/container.sh starts them):
//
//	containerbench busybox -out busybox.tar      # the test busybox image as a docker-save tar
//	containerbench run -docker /usr/local/bin/docker \
//	    -host wharf=unix:///tmp/x/w/sock -host "dockerd 20.10=unix:///tmp/x/d/sock"
//
// The workloads, all on --network none with the image already loaded:
//
//	run       docker run --rm busybox true
//	exec      docker exec <c> true, into a container running sleep
//	stop      docker stop <c>, whose shell exits at once on SIGTERM (its
//	          trap interrupts `wait`, so no sleep loop adds latency); the
//	          exit code is checked to be the trap's, not a SIGKILL's
//	parallel  -parallel (50) × docker run --rm busybox true at once: the
//	          time until the last one has exited
//	version   docker version: the CLI's own floor (a process start and one
//	          API round trip), no target
//
// Each repetition runs a workload on every daemon in turn, so whatever else
// loads the machine meanwhile weighs on all of them alike; the table gives
// medians, the ratio of the first host (wharf) to the second, and whether
// the target (≤ 1/3) is met. Every repetition goes to stderr.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/wharf-project/wharf/internal/testimage"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: containerbench busybox|run ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "busybox":
		err = busybox(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "containerbench:", err)
		os.Exit(1)
	}
}

// busybox writes Debian's static busybox as image busybox:latest.
func busybox(args []string) error {
	fs := flag.NewFlagSet("busybox", flag.ExitOnError)
	out := fs.String("out", "busybox.tar", "docker save tar to write")
	fs.Parse(args)
	img, err := testimage.Busybox()
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := img.WriteDockerSave(f, "busybox:latest"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hostFlags collects repeated -host name=dockerhost flags in order.
type hostFlags []daemon

func (h *hostFlags) String() string { return fmt.Sprint(*h) }

func (h *hostFlags) Set(v string) error {
	name, host, ok := strings.Cut(v, "=")
	if !ok || name == "" || host == "" {
		return fmt.Errorf("want name=host, got %q", v)
	}
	*h = append(*h, daemon{Name: name, Host: host})
	return nil
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	docker := fs.String("docker", "/usr/local/bin/docker", "docker CLI")
	reps := fs.Int("reps", 20, "repetitions of run, exec, stop and version")
	par := fs.Int("parallel", 50, "containers started at once in the parallel workload")
	parReps := fs.Int("parallel-reps", 3, "repetitions of the parallel workload")
	var hosts hostFlags
	fs.Var(&hosts, "host", "name=DOCKER_HOST of a daemon (repeat; the first is compared with the second)")
	fs.Parse(args)
	if len(hosts) != 2 {
		return fmt.Errorf("want two -host flags, got %d", len(hosts))
	}
	for i := range hosts {
		hosts[i].CLI = *docker
	}
	b := &bench{daemons: hosts}
	if err := b.prepare(); err != nil {
		return err
	}
	defer b.cleanup()
	rows := []row{
		{Name: "`docker run --rm busybox true`", Target: 1.0 / 3, Reps: *reps, Op: b.runOnce},
		{Name: "`docker exec <c> true`", Target: 1.0 / 3, Reps: *reps, Op: b.execOnce},
		{Name: "`docker stop <c>` (exits on SIGTERM)", Target: 1.0 / 3, Reps: *reps, Op: b.stopOnce},
		{Name: fmt.Sprintf("%d × `docker run --rm` in parallel", *par), Target: 1.0 / 3, Reps: *parReps,
			Op: func(d daemon, rep int) (float64, error) { return b.parallelOnce(d, rep, *par) }},
		{Name: "`docker version` (CLI floor, no target)", Reps: *reps, Op: b.versionOnce},
	}
	for i := range rows {
		if err := rows[i].measure(hosts); err != nil {
			return err
		}
	}
	printTable(os.Stdout, hosts, rows)
	return nil
}
