package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"
)

// table prints the medians of two daemons' samples (the first is wharf,
// the second its peer), their ratio and whether the targets are met:
// run ≤ 1/3 of the peer's time, throughput ≥ the peer's.
func table(args []string) error {
	fs := flag.NewFlagSet("table", flag.ExitOnError)
	fs.Parse(args)
	if fs.NArg() != 2 {
		return errors.New("table needs two sample files: wharf's, then its peer's")
	}
	var s [2]samples
	for i, f := range fs.Args() {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &s[i]); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	w, d := s[0], s[1]
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "workload\t%s\t%s\tratio\ttarget\tmet\tsamples\n", w.Name, d.Name)
	row := func(what, unit string, a, b []float64, target string, ok func(r float64) bool) {
		ma, mb := median(a), median(b)
		r := ma / mb
		met := "no"
		if ok(r) {
			met = "yes"
		}
		fmt.Fprintf(tw, "%s\t%.1f %s\t%.1f %s\t%.2f\t%s\t%s\t%d/%d\n", what, ma, unit, mb, unit, r, target, met, len(a), len(b))
	}
	row("docker run --rm busybox true (default bridge)", "ms", w.RunMS, d.RunMS, "≤ 0.33", func(r float64) bool { return r <= 1.0/3 })
	row("TCP host -> published port (127.0.0.1)", "MB/s", w.MBps, d.MBps, "≥ 1.00", func(r float64) bool { return r >= 1 })
	return tw.Flush()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}
