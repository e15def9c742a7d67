package main

import (
	"errors"
	"strings"
	"testing"
)

func TestRowMet(t *testing.T) {
	atLeast3 := goal{"distribution", 3, false}
	nearCeiling := goal{"ceiling", 0.9, false}
	halfRSS := goal{"distribution", 0.5, true}
	for _, tc := range []struct {
		name string
		r    row
		want string
	}{
		{"above target", row{Dist: value(100), Wharf: value(301), Goal: atLeast3}, "yes"},
		{"exactly on target", row{Dist: value(100), Wharf: value(300), Goal: atLeast3}, "yes"},
		{"below target", row{Dist: value(100), Wharf: value(299), Goal: atLeast3}, "NO"},
		{"judged against the ceiling, not distribution", row{Ceiling: value(1000), Dist: value(100), Wharf: value(800), Goal: nearCeiling}, "NO"},
		{"ceiling reached", row{Ceiling: value(1000), Dist: value(2000), Wharf: value(950), Goal: nearCeiling}, "yes"},
		{"lower is better, under", row{Dist: value(120), Wharf: value(40), Goal: halfRSS}, "yes"},
		{"lower is better, over", row{Dist: value(120), Wharf: value(61), Goal: halfRSS}, "NO"},
		{"wharf not measured", row{Dist: value(120), Goal: halfRSS}, "n/a"},
		{"wharf failed", row{Dist: value(120), Wharf: failed(errors.New("boom")), Goal: atLeast3}, "n/a"},
		{"baseline failed", row{Dist: failed(errors.New("boom")), Wharf: value(5), Goal: atLeast3}, "n/a"},
		{"no ceiling", row{Dist: value(1), Wharf: value(5), Goal: nearCeiling}, "n/a"},
	} {
		if got := tc.r.met(); got != tc.want {
			t.Errorf("%s: met() = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	rows := []row{
		{Name: "push 64 MiB monolithic", Unit: "MB/s", Ceiling: value(887), Dist: value(280.25), Wharf: value(622.7), Goal: goal{"ceiling", 0.9, false}},
		{Name: "GET 1 KiB blob c=32", Unit: "req/s", Dist: value(622.3), Wharf: failed(errors.New("status 500")), Goal: goal{"distribution", 5, false}},
		{Name: "peak RSS (VmHWM)", Unit: "MiB", Dist: value(124.9), Wharf: value(22.2), Goal: goal{"distribution", 0.5, true}},
	}
	rows[0].CPUUnit, rows[0].CPUCeiling, rows[0].CPUDist, rows[0].CPUWharf = "ms/GiB", value(1100), value(3400), value(1210)
	var b strings.Builder
	if err := writeTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	want := `workload                unit   ceiling  distribution  wharf  wharf/dist  wharf/ceil  target                met
push 64 MiB monolithic  MB/s     887.0         280.2  622.7       2.22x       0.70x  >= 0.9x ceiling       NO
GET 1 KiB blob c=32     req/s        -         622.3    ERR           -           -  >= 5x distribution    n/a
peak RSS (VmHWM)        MiB          -         124.9   22.2       0.18x           -  <= 0.5x distribution  yes
error: GET 1 KiB blob c=32, wharf: status 500

server CPU per unit of work  unit    ceiling  distribution  wharf  wharf/dist  wharf/ceil
push 64 MiB monolithic       ms/GiB     1100          3400   1210       0.36x       1.10x
`
	if got := b.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestCellString(t *testing.T) {
	for _, tc := range []struct {
		c    cell
		want string
	}{
		{cell{}, "-"},
		{value(0.04), "0.0"},
		{value(999.94), "999.9"},
		{value(27538.4), "27538"},
		{failed(errors.New("x")), "ERR"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%+v: String() = %q, want %q", tc.c, got, tc.want)
		}
	}
}

func TestMedian(t *testing.T) {
	xs := []float64{5, 1, 3}
	if got := median(xs); got != 3 {
		t.Errorf("median of 5,1,3 = %g, want 3", got)
	}
	if xs[0] != 5 {
		t.Error("median reordered its argument")
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of 4,1,3,2 = %g, want 2.5", got)
	}
}
