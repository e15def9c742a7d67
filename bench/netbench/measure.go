package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// samples is what one daemon measured, over all its turns.
type samples struct {
	Name  string
	RunMS []float64 // docker run --rm busybox true, milliseconds
	MBps  []float64 // host -> published port, MB/s (10^6 bytes)
}

func measure(args []string) error {
	fs := flag.NewFlagSet("measure", flag.ExitOnError)
	docker := fs.String("docker", "/usr/local/bin/docker", "docker CLI")
	host := fs.String("host", "", "the daemon's -H")
	name := fs.String("name", "", "the daemon's name in the table")
	out := fs.String("out", "", "JSON file of samples (appended to)")
	reps := fs.Int("reps", 10, "docker run --rm repetitions")
	fetches := fs.Int("fetches", 5, "downloads of the served file")
	size := fs.Int("size", 256, "size of the served file, MiB")
	fs.Parse(args)
	if *host == "" || *name == "" || *out == "" {
		return errors.New("measure needs -host, -name and -out")
	}
	s := samples{Name: *name}
	if b, err := os.ReadFile(*out); err == nil {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	cli := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, *docker, append([]string{"-H", *host}, args...)...)
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		err := cmd.Run()
		if err != nil {
			err = fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, b.String())
		}
		return b.String(), err
	}

	// run: two warm-up runs (caches, the default bridge made), then reps.
	for i := -2; i < *reps; i++ {
		start := time.Now()
		if _, err := cli("run", "--rm", "--pull=never", "busybox", "true"); err != nil {
			return err
		}
		if i >= 0 {
			ms := float64(time.Since(start).Microseconds()) / 1000
			s.RunMS = append(s.RunMS, ms)
			fmt.Fprintf(os.Stderr, "%s run %.1f ms\n", *name, ms)
		}
	}

	// throughput
	const ctr = "netbench-httpd"
	_, _ = cli("rm", "-f", ctr)
	serve := fmt.Sprintf("head -c %d /dev/zero > /www/big && exec httpd -f -p 8080 -h /www", *size<<20)
	if _, err := cli("run", "-d", "--pull=never", "--name", ctr, "-p", "127.0.0.1::8080",
		"--tmpfs", fmt.Sprintf("/www:size=%dm", *size+16), "busybox", "sh", "-c", serve); err != nil {
		return err
	}
	defer cli("rm", "-f", ctr) //nolint:errcheck // best effort; the script's trap removes it too
	portOut, err := cli("port", ctr, "8080/tcp")
	if err != nil {
		return err
	}
	addr := ""
	for _, l := range strings.Split(strings.TrimSpace(portOut), "\n") {
		if h, p, err := net.SplitHostPort(strings.TrimSpace(l)); err == nil && h == "127.0.0.1" {
			addr = net.JoinHostPort(h, p)
		}
	}
	if addr == "" {
		return fmt.Errorf("docker port %s: %q", ctr, portOut)
	}
	url := "http://" + addr + "/big"
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	want := int64(*size) << 20
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, _, err := fetch(client, url)
		if err == nil && n == want {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not served in 60s (last: %d bytes, %v)", url, n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for range *fetches {
		n, d, err := fetch(client, url)
		if err != nil || n != want {
			return fmt.Errorf("fetch %s: %d bytes, %v", url, n, err)
		}
		mbps := float64(n) / d.Seconds() / 1e6
		s.MBps = append(s.MBps, mbps)
		fmt.Fprintf(os.Stderr, "%s throughput %.0f MB/s\n", *name, mbps)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}

// fetch downloads url, reading 1 MiB at a time and keeping nothing (so
// the client is not what limits the transfer): the bytes and the time.
func fetch(c *http.Client, url string) (int64, time.Duration, error) {
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("status %s", resp.Status)
	}
	buf := make([]byte, 1<<20)
	var n int64
	for {
		m, err := resp.Body.Read(buf)
		n += int64(m)
		if err == io.EOF {
			return n, time.Since(start), nil
		}
		if err != nil {
			return n, time.Since(start), err
		}
	}
}
