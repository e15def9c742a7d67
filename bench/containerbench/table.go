package main

import (
	"fmt"
	"io"
	"os"
	"slices"
)

// row is one workload: Op measures it once on a daemon (milliseconds),
// Target is the highest acceptable ratio first/second (0: none).
type row struct {
	Name   string
	Target float64
	Reps   int
	Op     func(d daemon, rep int) (float64, error)

	samples [][]float64 // per daemon
}

// measure runs Op Reps times on each daemon in turn, the daemons taking
// the first turn of a round in rotation: the first of a round pays for
// what the last one left (bench/runtime.sh measured several ms).
func (r *row) measure(ds []daemon) error {
	r.samples = make([][]float64, len(ds))
	for rep := range r.Reps {
		for k := range ds {
			i := (k + rep) % len(ds)
			d := ds[i]
			ms, err := r.Op(d, rep)
			if err != nil {
				return err
			}
			r.samples[i] = append(r.samples[i], ms)
			fmt.Fprintf(os.Stderr, "%s rep %d %s: %.1f ms\n", r.Name, rep+1, d.Name, ms)
		}
	}
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// printTable writes the medians as a markdown table.
func printTable(w io.Writer, ds []daemon, rows []row) {
	fmt.Fprintf(w, "| operation (median ms) | reps | %s | %s | %s / %s | target | met |\n", ds[0].Name, ds[1].Name, ds[0].Name, ds[1].Name)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rows {
		a, b := median(r.samples[0]), median(r.samples[1])
		target, met := "-", "-"
		if r.Target > 0 {
			target = fmt.Sprintf("≤ %.2f", r.Target)
			met = "NO"
			if a/b <= r.Target {
				met = "yes"
			}
		}
		fmt.Fprintf(w, "| %s | %d | %.1f | %.1f | %.2f | %s | %s |\n", r.Name, r.Reps, a, b, a/b, target, met)
	}
}
