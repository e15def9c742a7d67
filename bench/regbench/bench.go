package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is one registry under test.
type server struct {
	name  string // "distribution" or "wharf"
	reg   *registry
	base  string
	pid   int    // for peak RSS; 0 if unknown
	pprof string // base URL of its net/http/pprof listener, if profiled
	data  string // its storage root directory, if known
	down  error  // why it is not measured, if it is not
}

func (s *server) alive() bool {
	if s.pid == 0 {
		return true
	}
	_, err := os.Stat("/proc/" + strconv.Itoa(s.pid))
	return err == nil
}

// config sizes a run.
type config struct {
	BlobMiB  int           // the large blob
	ChunkMiB int           // PATCH size of the chunked push
	Images   int           // small images per push workload
	Reps     int           // repetitions of each throughput workload; the best counts
	Length   time.Duration // measured window of the request-rate workloads
	Conns    int           // connections of the request-rate workloads
}

// bench runs every workload against the ceiling and both servers and
// returns the table rows. Throughput workloads run Reps times, the servers
// taking turns (and swapping who goes first each repetition) so that noise
// from other work on the machine falls on both alike; the best repetition
// counts, as the best estimate of what each can do.
type bench struct {
	cfg        config
	ceiling    *registry
	ceilingPID int
	servers    []*server // measured ones, in turn order
	down       []*server // ones that did not come up
	blob       *bigBlob
	log        *slog.Logger
}

func (b *bench) best(ctx context.Context, name string, measure func(context.Context, *server, int) (float64, error)) results {
	return b.bestAmong(ctx, b.servers, name, measure)
}

// results are one workload's numbers per server name: the best value and
// the median server CPU time per unit of work (seconds per MB, image or
// request), which, unlike throughput, hardly depends on what else the
// machine is doing.
type results struct {
	value, cpu map[string]cell
}

func (b *bench) bestAmong(ctx context.Context, servers []*server, name string, measure func(context.Context, *server, int) (float64, error)) results {
	out := map[string]cell{}
	cpu := map[string][]float64{}
	for rep := range b.cfg.Reps {
		for i := range servers {
			s := servers[(i+rep)%len(servers)]
			if c, ok := out[s.name]; ok && c.Err != nil {
				continue // failed once: do not retry
			}
			settle()
			before := takeUsage(s.pid)
			v, err := measure(ctx, s, rep)
			if err != nil {
				b.log.Error("workload failed", "workload", name, "server", s.name, "err", err)
				out[s.name] = failed(err)
				continue
			}
			u := takeUsage(s.pid).since(before)
			b.log.Info("measured", "workload", name, "server", s.name, "rep", rep+1, "value", fmt.Sprintf("%.1f", v),
				"wall", u.wall.Round(time.Millisecond), "server_cpu", u.server.Round(10*time.Millisecond), "client_cpu", u.client.Round(time.Millisecond))
			if c := out[s.name]; !c.Set || v > c.V {
				out[s.name] = value(v)
			}
			if s.pid != 0 && v > 0 {
				cpu[s.name] = append(cpu[s.name], u.server.Seconds()/(v*u.wall.Seconds()))
			}
		}
	}
	res := results{value: out, cpu: map[string]cell{}}
	for name, xs := range cpu {
		res.cpu[name] = value(median(xs))
	}
	return res
}

func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

// settle writes all dirty pages back (sync(2), untimed) before a
// measurement, so that no server pays for the writeback of data an earlier
// one wrote: with 512 MiB pushes the kernel's periodic flush would
// otherwise land in the middle of whichever measurement runs 30 s later.
func settle() { syscall.Sync() }

// dropBlob deletes a pushed large blob's data file behind the server's
// back (untimed), when the server's data dir is known. Otherwise every
// repetition would leave another 512 MiB in the page cache, and on this
// kind of machine the cost of writing grows as the cache does (over two
// times per byte after a few GiB), so later repetitions would measure the
// kernel's memory state rather than the server. Both servers keep
// distribution's layout; the blob is never read again.
func (b *bench) dropBlob(s *server, digest string) {
	if s.data == "" {
		return
	}
	hex := strings.TrimPrefix(digest, "sha256:")
	p := filepath.Join(s.data, "docker/registry/v2/blobs/sha256", hex[:2], hex, "data")
	if err := os.Remove(p); err != nil {
		b.log.Warn("cannot drop pushed blob", "server", s.name, "err", err)
	}
}

// timed runs f and returns bytes per second in MB/s (10^6) for n bytes.
func timed(n int, f func() error) (float64, error) {
	t0 := time.Now()
	if err := f(); err != nil {
		return 0, err
	}
	return float64(n) / 1e6 / time.Since(t0).Seconds(), nil
}

func (b *bench) run(ctx context.Context) []row {
	size := len(b.blob.buf)
	sizeName := fmt.Sprintf("%d MiB", b.cfg.BlobMiB)
	var rows []row

	// Variants: 3*rep for the ceiling, 3*rep+1 monolithic, 3*rep+2 chunked;
	// both servers get the same variant in the same repetition. The ceiling
	// takes its turn among the servers in the monolithic push.
	var pullDigest string
	withCeiling := append([]*server{{name: "ceiling", reg: b.ceiling, pid: b.ceilingPID}}, b.servers...)
	mono := b.bestAmong(ctx, withCeiling, "push-monolithic", func(ctx context.Context, s *server, rep int) (float64, error) {
		if s.name == "ceiling" {
			d, err := b.blob.variant(uint64(3 * rep))
			if err != nil {
				return 0, err
			}
			return timed(size, func() error { return b.ceiling.pushCeiling(ctx, d, b.blob.buf) })
		}
		d, err := b.blob.variant(uint64(3*rep + 1))
		if err != nil {
			return 0, err
		}
		v, err := timed(size, func() error { return s.reg.pushMonolithic(ctx, "bench/big", d, b.blob.buf) })
		if rep == 0 {
			pullDigest = d // kept for the pull
		} else if err == nil {
			b.dropBlob(s, d)
		}
		return v, err
	})
	ceil := mono.value["ceiling"]
	rows = append(rows, b.row("push "+sizeName+" monolithic", "MB/s", ceil, mono, goal{"ceiling", 0.9, false}))

	chunk := b.cfg.ChunkMiB << 20
	chunked := b.best(ctx, "push-chunked", func(ctx context.Context, s *server, rep int) (float64, error) {
		d, err := b.blob.variant(uint64(3*rep + 2))
		if err != nil {
			return 0, err
		}
		v, err := timed(size, func() error { return s.reg.pushChunked(ctx, "bench/big", d, b.blob.buf, chunk) })
		if err == nil {
			b.dropBlob(s, d)
		}
		return v, err
	})
	chunked.cpu["ceiling"] = mono.cpu["ceiling"]
	rows = append(rows, b.row(fmt.Sprintf("push %s chunked %d MiB", sizeName, b.cfg.ChunkMiB), "MB/s", ceil, chunked, goal{"ceiling", 0.9, false}))

	// A pull from the page cache takes a fraction of a second, so each
	// measurement pulls the blob until at least 1 GiB has been moved.
	pulls := max(1, (1<<30+size-1)/size)
	pull := b.bestAmong(ctx, withCeiling, "pull", func(ctx context.Context, s *server, rep int) (float64, error) {
		path := "/v2/bench/big/blobs/" + pullDigest
		if s.name == "ceiling" {
			path = "/blob" // the last blob it was sent, as large
		}
		return timed(pulls*size, func() error {
			for range pulls {
				n, err := s.reg.pull(ctx, path)
				if err != nil {
					return err
				}
				if n != int64(size) {
					return fmt.Errorf("pulled %d bytes, want %d", n, size)
				}
			}
			return nil
		})
	})
	rows = append(rows, b.row("pull "+sizeName, "MB/s", pull.value["ceiling"], pull, goal{"distribution", 3, false}))

	for i, conc := range []int{1, 8} {
		sets := make([][]smallImage, b.cfg.Reps)
		for rep := range sets {
			imgs, err := newSmallImages(b.cfg.Images, uint64(100+10*i+rep))
			if err != nil {
				panic(err) // marshalling maps of strings cannot fail
			}
			sets[rep] = imgs
		}
		res := b.best(ctx, fmt.Sprintf("push-images-c%d", conc), func(ctx context.Context, s *server, rep int) (float64, error) {
			repo := fmt.Sprintf("bench/small-c%d-r%d", conc, rep)
			t0 := time.Now()
			if err := s.reg.pushImages(ctx, repo, sets[rep], conc); err != nil {
				return 0, err
			}
			return float64(len(sets[rep])) / time.Since(t0).Seconds(), nil
		})
		rows = append(rows, b.row(fmt.Sprintf("push %d small images c=%d", b.cfg.Images, conc), "images/s", cell{}, res, goal{"distribution", 4, false}))
	}

	// The request-rate workloads read what the c=1 push stored.
	imgs, _ := newSmallImages(1, 100)
	im := imgs[0]
	headSpec, getSpec := b.loadSpecs(im)
	head := b.once(ctx, "head-manifest", headSpec)
	rows = append(rows, b.row(fmt.Sprintf("HEAD manifest by tag c=%d", b.cfg.Conns), "req/s", cell{}, head, goal{"distribution", 2, false}))
	get := b.once(ctx, "get-small-blob", getSpec)
	rows = append(rows, b.row(fmt.Sprintf("GET 1 KiB blob c=%d", b.cfg.Conns), "req/s", cell{}, get, goal{"distribution", 5, false}))

	rss := results{value: map[string]cell{}}
	for _, s := range b.servers {
		kib, err := peakRSS(s.pid)
		if err != nil {
			rss.value[s.name] = failed(err)
		} else {
			rss.value[s.name] = value(float64(kib) / 1024)
		}
	}
	rows = append(rows, b.row("peak RSS (VmHWM)", "MiB", cell{}, rss, goal{"distribution", 0.5, true}))
	return rows
}

// loadSpecs are the request-rate workloads on image im: HEAD of its
// manifest by tag with a client's Accept list, and GET of its layer.
func (b *bench) loadSpecs(im smallImage) (head, get loadSpec) {
	head = loadSpec{
		Method: http.MethodHead,
		Path:   "/v2/bench/small-c1-r0/manifests/" + im.tag,
		Header: http.Header{"Accept": {strings.Join([]string{
			mediaManifest, "application/vnd.docker.distribution.manifest.v2+json",
			"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
		}, ", ")}},
		Conns: b.cfg.Conns,
		Check: func(resp *http.Response, _ int64) error {
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Docker-Content-Digest"); got != im.manDigest {
				return fmt.Errorf("digest %q, want %s", got, im.manDigest)
			}
			return nil
		},
	}
	get = loadSpec{
		Method: http.MethodGet,
		Path:   "/v2/bench/small-c1-r0/blobs/" + im.layerDigest,
		Conns:  b.cfg.Conns,
		Check: func(resp *http.Response, n int64) error {
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			if n != int64(len(im.layer)) {
				return fmt.Errorf("body %d bytes, want %d", n, len(im.layer))
			}
			return nil
		},
	}
	return head, get
}

// once runs a request-rate workload for one window per server.
func (b *bench) once(ctx context.Context, name string, spec loadSpec) results {
	spec.Warmup, spec.Length = 500*time.Millisecond, b.cfg.Length
	saved := b.cfg.Reps
	b.cfg.Reps = 1
	defer func() { b.cfg.Reps = saved }()
	return b.best(ctx, name, func(ctx context.Context, s *server, _ int) (float64, error) {
		return runLoad(ctx, s.base, spec)
	})
}

// row assembles a table row.
func (b *bench) row(name, unit string, ceil cell, res results, g goal) row {
	r := row{Name: name, Unit: unit, Ceiling: ceil, Dist: res.value["distribution"], Wharf: res.value["wharf"], Goal: g}
	// CPU per unit, scaled to a readable unit.
	scale, cpuUnit := 1.0, ""
	switch unit {
	case "MB/s":
		scale, cpuUnit = 1e3*(1<<30)/1e6, "ms/GiB"
	case "images/s":
		scale, cpuUnit = 1e3, "ms/image"
	case "req/s":
		scale, cpuUnit = 1e6, "us/req"
	}
	if cpuUnit != "" && res.cpu != nil {
		sc := func(c cell) cell {
			if c.ok() {
				c.V *= scale
			}
			return c
		}
		r.CPUUnit = cpuUnit
		r.CPUCeiling, r.CPUDist, r.CPUWharf = sc(res.cpu["ceiling"]), sc(res.cpu["distribution"]), sc(res.cpu["wharf"])
	}
	return r
}

// peakRSS reads VmHWM (the resident set's high-water mark) in KiB.
func peakRSS(pid int) (int64, error) {
	if pid == 0 {
		return 0, fmt.Errorf("no pid given")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
}
