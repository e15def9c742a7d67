package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// step is one repeatable unit of a workload; iter makes its content fresh
// (a new blob variant, a new image set) so repeating it never re-sends
// something the server already has.
type step struct {
	name string
	do   func(ctx context.Context, s *server, iter int) error
}

// steps are the workloads in repeatable form, for profiling. They expect
// run to have stored its content first (the c=1 images, the big blob).
func (b *bench) steps() ([]step, error) {
	pullDigest, err := b.blob.variant(1) // the first monolithic push
	if err != nil {
		return nil, err
	}
	imgs, err := newSmallImages(1, 100) // what the request-rate workloads read
	if err != nil {
		return nil, err
	}
	head, get := b.loadSpecs(imgs[0])
	head.Length, get.Length = time.Second, time.Second
	return []step{
		{"push-monolithic", func(ctx context.Context, s *server, iter int) error {
			d, err := b.blob.variant(uint64(1_000_000 + iter))
			if err != nil {
				return err
			}
			return s.reg.pushMonolithic(ctx, "bench/profile", d, b.blob.buf)
		}},
		{"push-chunked", func(ctx context.Context, s *server, iter int) error {
			d, err := b.blob.variant(uint64(2_000_000 + iter))
			if err != nil {
				return err
			}
			return s.reg.pushChunked(ctx, "bench/profile", d, b.blob.buf, b.cfg.ChunkMiB<<20)
		}},
		{"pull", func(ctx context.Context, s *server, _ int) error {
			_, err := s.reg.pull(ctx, "/v2/bench/big/blobs/"+pullDigest)
			return err
		}},
		{"push-images-c8", func(ctx context.Context, s *server, iter int) error {
			imgs, err := newSmallImages(16, uint64(1_000_000+iter))
			if err != nil {
				return err
			}
			return s.reg.pushImages(ctx, "bench/profile", imgs, 8)
		}},
		{"head-manifest", func(ctx context.Context, s *server, _ int) error {
			_, err := runLoad(ctx, s.base, head)
			return err
		}},
		{"get-small-blob", func(ctx context.Context, s *server, _ int) error {
			_, err := runLoad(ctx, s.base, get)
			return err
		}},
	}, nil
}

// profile takes a CPU profile of each server with a pprof URL while each
// workload repeats for the profile's length, into dir/<server>-<step>.pprof.
// It runs after the measured run so sampling does not disturb the numbers.
func (b *bench) profile(ctx context.Context, dir string, length time.Duration) error {
	steps, err := b.steps()
	if err != nil {
		return err
	}
	for _, s := range b.servers {
		if s.pprof == "" {
			continue
		}
		for _, st := range steps {
			file := filepath.Join(dir, s.name+"-"+st.name+".pprof")
			if err := profileStep(ctx, s, st, file, length); err != nil {
				return fmt.Errorf("profile %s %s: %w", s.name, st.name, err)
			}
			b.log.Info("profiled", "server", s.name, "workload", st.name, "file", file)
		}
	}
	return nil
}

func profileStep(ctx context.Context, s *server, st step, file string, length time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", strings.TrimSuffix(s.pprof, "/"), int(length.Seconds()))
	done := make(chan error, 1)
	go func() { done <- fetchTo(ctx, url, file) }()
	time.Sleep(100 * time.Millisecond) // let the profile start before the work does
	for iter := 0; ; iter++ {
		select {
		case err := <-done:
			return err
		default:
		}
		if err := st.do(ctx, s, iter); err != nil {
			cancel()
			<-done
			return err
		}
	}
}

func fetchTo(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
