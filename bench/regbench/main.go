// Command regbench measures container registries side by side: it pushes
// and pulls the same deterministic content to each, and prints one table
// with both results, their ratio and the goal wharf is held to. The script
// bench/registry.sh builds it, starts the servers and calls it.
//
//	regbench run -dist URL -dist-pid PID -wharf URL -wharf-pid PID -ceiling URL [-quick]
//	regbench ceiling -addr 127.0.0.1:PORT -dir DIR
//	regbench freeport [N]
//
// The workloads, in order (each repeated -reps times, best counted, unless
// it is a request-rate window):
//
//   - push of a large random blob, monolithic (POST, PUT ?digest= with the
//     body) and chunked (POST, PATCH parts with Content-Range, empty PUT);
//   - pull of it (GET, read into a discarded buffer);
//   - push of many small images (1 KiB layer, config, manifest by tag; a
//     HEAD, POST and PUT per blob, seven requests an image) by 1 and by 8
//     concurrent clients;
//   - HEAD of a manifest by tag and GET of a 1 KiB blob from many
//     keep-alive connections for a fixed window (requests per second);
//   - each server's peak RSS (VmHWM) after all of the above.
//
// The ceiling is `regbench ceiling`: a trivial HTTP server that writes a
// PUT body to a file while hashing it with sha256, on the same filesystem
// as the registries, and sends the last such file back on GET with
// sendfile(2). It is what a push and a pull cost at least on this machine,
// so wharf's push is judged against it rather than against distribution.
//
// The machine is shared, so wall-clock numbers are noisy: measurements
// alternate between the servers, dirty pages are synced before each one,
// the best repetition counts, and a second table gives each server's CPU
// time per unit of work (median over the repetitions, from /proc/PID/stat),
// which hardly depends on the neighbours and says whether a server is
// slow because it computes or because it waits.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		printUsage()
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = cmdRun(os.Args[2:])
	case "ceiling":
		err = cmdCeiling(os.Args[2:])
	case "freeport":
		err = cmdFreeport(os.Args[2:])
	default:
		printUsage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "regbench:", err)
		os.Exit(1)
	}
}

func printUsage() {
	fmt.Fprintln(os.Stderr, "usage: regbench run|ceiling|freeport [flags]")
	os.Exit(2)
}

func cmdRun(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	distURL := fs.String("dist", "", "distribution's base URL")
	distPID := fs.Int("dist-pid", 0, "distribution's process id (for peak RSS)")
	wharfURL := fs.String("wharf", "", "wharf's base URL")
	wharfPID := fs.Int("wharf-pid", 0, "wharf's process id (for peak RSS)")
	ceilURL := fs.String("ceiling", "", "base URL of `regbench ceiling`")
	ceilPID := fs.Int("ceiling-pid", 0, "the ceiling server's process id (for its CPU time in the log)")
	distVersion := fs.String("dist-version", "", "distribution's version, for the title")
	profDir := fs.String("profile", "", "after the run, write a CPU profile of each workload on each server with a pprof URL here")
	profLen := fs.Duration("profile-length", 5*time.Second, "length of each profile")
	distData := fs.String("dist-data", "", "distribution's storage root (large pushed blobs are deleted from it between repetitions)")
	wharfData := fs.String("wharf-data", "", "wharf's storage root (likewise)")
	distPprof := fs.String("dist-pprof", "", "distribution's debug listener (net/http/pprof)")
	wharfPprof := fs.String("wharf-pprof", "", "wharf's debug listener (net/http/pprof)")
	quick := fs.Bool("quick", false, "small sizes for a quick check (64 MiB blob, 50 images, 2 s windows)")
	cfg := config{ChunkMiB: 16, Conns: 32}
	fs.IntVar(&cfg.BlobMiB, "blob-mib", 512, "size of the large blob in MiB")
	fs.IntVar(&cfg.Images, "images", 200, "small images per push workload")
	fs.IntVar(&cfg.Reps, "reps", 6, "repetitions of each throughput workload (the best counts)")
	fs.DurationVar(&cfg.Length, "window", 5*time.Second, "measured window of the request-rate workloads")
	_ = fs.Parse(args)
	if *quick { // smaller sizes, unless a flag sets one explicitly
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, p := range map[string]*int{"blob-mib": &cfg.BlobMiB, "images": &cfg.Images, "reps": &cfg.Reps} {
			if !set[name] {
				*p = map[string]int{"blob-mib": 64, "images": 50, "reps": 2}[name]
			}
		}
		if !set["window"] {
			cfg.Length = 2 * time.Second
		}
	}
	if *distURL == "" || *ceilURL == "" {
		return fmt.Errorf("run: -dist and -ceiling are required")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	b := &bench{cfg: cfg, log: log, ceilingPID: *ceilPID}
	var err error
	if b.ceiling, err = newRegistry(*ceilURL); err != nil {
		return err
	}
	for _, s := range []struct {
		name, url, pprof, data string
		pid                    int
	}{{"distribution", *distURL, *distPprof, *distData, *distPID}, {"wharf", *wharfURL, *wharfPprof, *wharfData, *wharfPID}} {
		srv := &server{name: s.name, base: s.url, pid: s.pid, pprof: s.pprof, data: s.data}
		switch {
		case s.url == "":
			srv.down = fmt.Errorf("not given")
		default:
			if srv.reg, err = newRegistry(s.url); err != nil {
				return err
			}
			srv.down = srv.reg.ping(ctx, 30*time.Second, srv.alive)
		}
		if srv.down != nil {
			log.Error("server not measured", "server", s.name, "err", srv.down)
			b.down = append(b.down, srv)
			continue
		}
		b.servers = append(b.servers, srv)
	}
	if len(b.servers) == 0 {
		return fmt.Errorf("no server to measure")
	}
	t0 := time.Now()
	if b.blob, err = newBigBlob(cfg.BlobMiB << 20); err != nil {
		return err
	}
	log.Info("data ready", "blob_mib", cfg.BlobMiB, "took", time.Since(t0).Round(time.Millisecond))

	rows := b.run(ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	fmt.Printf("registry benchmark: wharf vs distribution %s on %d CPUs; %d MiB blob, %d images; best of %d for throughput, %s windows at %d connections\n",
		*distVersion, runtime.NumCPU(), cfg.BlobMiB, cfg.Images, cfg.Reps, cfg.Length, cfg.Conns)
	if err := writeTable(os.Stdout, rows); err != nil {
		return err
	}
	for _, s := range b.down {
		fmt.Printf("%s not measured: %v\n", s.name, s.down)
	}
	if *profDir != "" {
		return b.profile(ctx, *profDir, *profLen)
	}
	return nil
}

func cmdCeiling(args []string) error {
	fs := flag.NewFlagSet("ceiling", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	dir := fs.String("dir", "", "directory the bodies are written to (same filesystem as the registries)")
	_ = fs.Parse(args)
	if *dir == "" {
		return fmt.Errorf("ceiling: -dir is required")
	}
	return serveCeiling(*addr, *dir)
}

// cmdFreeport prints N loopback ports that were free a moment ago, on one
// line, for the script to hand to the servers.
func cmdFreeport(args []string) error {
	n := 1
	if len(args) > 0 {
		var err error
		if n, err = strconv.Atoi(args[0]); err != nil {
			return fmt.Errorf("freeport: %w", err)
		}
	}
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		lns = append(lns, ln)
		if i > 0 {
			fmt.Print(" ")
		}
		fmt.Print(ln.Addr().(*net.TCPAddr).Port)
	}
	fmt.Println()
	return nil
}
