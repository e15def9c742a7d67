package main

import (
	"fmt"
	"io"
	"strings"
)

// cell is one measured number, a failure, or nothing (not measured).
type cell struct {
	V   float64
	Err error
	Set bool
}

func value(v float64) cell  { return cell{V: v, Set: true} }
func failed(err error) cell { return cell{Err: err, Set: true} }
func (c cell) ok() bool     { return c.Set && c.Err == nil }

func (c cell) String() string {
	switch {
	case !c.Set:
		return "-"
	case c.Err != nil:
		return "ERR"
	case c.V >= 1000:
		return fmt.Sprintf("%.0f", c.V)
	default:
		return fmt.Sprintf("%.1f", c.V)
	}
}

// goal is a row's target: wharf's value divided by the baseline's
// (the ceiling's or distribution's) must reach Ratio, or stay at or under
// it when LowerBetter.
type goal struct {
	Against     string // "ceiling" or "distribution"
	Ratio       float64
	LowerBetter bool
}

func (g goal) String() string {
	op := ">="
	if g.LowerBetter {
		op = "<="
	}
	return fmt.Sprintf("%s %gx %s", op, g.Ratio, g.Against)
}

// row is one workload: the baselines, wharf's result and the goal, and
// each server's CPU time per unit of work (CPUUnit empty when not known).
type row struct {
	Name, Unit           string
	Ceiling, Dist, Wharf cell
	Goal                 goal

	CPUUnit                       string
	CPUCeiling, CPUDist, CPUWharf cell
}

// ratio is wharf / base, or "-" when either side is missing.
func ratio(wharf, base cell) string {
	if !wharf.ok() || !base.ok() || base.V == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", wharf.V/base.V)
}

// met says whether wharf reached the goal: "yes", "NO", or "n/a" when a
// number it needs is missing.
func (r row) met() string {
	base := r.Dist
	if r.Goal.Against == "ceiling" {
		base = r.Ceiling
	}
	if !r.Wharf.ok() || !base.ok() || base.V == 0 {
		return "n/a"
	}
	q := r.Wharf.V / base.V
	if r.Goal.LowerBetter && q <= r.Goal.Ratio || !r.Goal.LowerBetter && q >= r.Goal.Ratio {
		return "yes"
	}
	return "NO"
}

var (
	header = []string{"workload", "unit", "ceiling", "distribution", "wharf", "wharf/dist", "wharf/ceil", "target", "met"}
	// rightAligned marks the numeric columns of header.
	rightAligned = []bool{false, false, true, true, true, true, true, false, false}

	cpuHeader = []string{"server CPU per unit of work", "unit", "ceiling", "distribution", "wharf", "wharf/dist", "wharf/ceil"}
	cpuRight  = []bool{false, false, true, true, true, true, true}
)

// writeTable prints rows as one aligned plain-text table, then the errors
// behind any ERR cell, then (when known) a second table of CPU time per
// unit of work: the medians over the repetitions, lower is better.
func writeTable(w io.Writer, rows []row) error {
	lines := [][]string{header}
	cpuLines := [][]string{cpuHeader}
	var notes []string
	for _, r := range rows {
		lines = append(lines, []string{
			r.Name, r.Unit, r.Ceiling.String(), r.Dist.String(), r.Wharf.String(),
			ratio(r.Wharf, r.Dist), ratio(r.Wharf, r.Ceiling), r.Goal.String(), r.met(),
		})
		if r.CPUUnit != "" {
			cpuLines = append(cpuLines, []string{
				r.Name, r.CPUUnit, r.CPUCeiling.String(), r.CPUDist.String(), r.CPUWharf.String(),
				ratio(r.CPUWharf, r.CPUDist), ratio(r.CPUWharf, r.CPUCeiling),
			})
		}
		for _, c := range []struct {
			who string
			c   cell
		}{{"ceiling", r.Ceiling}, {"distribution", r.Dist}, {"wharf", r.Wharf}} {
			if c.c.Err != nil {
				notes = append(notes, fmt.Sprintf("%s, %s: %v", r.Name, c.who, c.c.Err))
			}
		}
	}
	var b strings.Builder
	align(&b, lines, rightAligned)
	for _, n := range notes {
		b.WriteString("error: " + n + "\n")
	}
	if len(cpuLines) > 1 {
		b.WriteString("\n")
		align(&b, cpuLines, cpuRight)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// align writes lines as columns two spaces apart, numbers to the right.
func align(b *strings.Builder, lines [][]string, right []bool) {
	width := make([]int, len(lines[0]))
	for _, l := range lines {
		for i, s := range l {
			width[i] = max(width[i], len(s))
		}
	}
	for _, l := range lines {
		for i, s := range l {
			pad := strings.Repeat(" ", width[i]-len(s))
			if i > 0 {
				b.WriteString("  ")
			}
			switch {
			case right[i]:
				b.WriteString(pad + s)
			case i == len(l)-1:
				b.WriteString(s)
			default:
				b.WriteString(s + pad)
			}
		}
		b.WriteString("\n")
	}
}
