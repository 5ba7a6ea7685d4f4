package plots

import (
	"os"
	"testing"
)

// TestSamples writes every figure in every format to $PLOTS_SAMPLES for a
// person to look at; it is skipped otherwise.
func TestSamples(t *testing.T) {
	dir := os.Getenv("PLOTS_SAMPLES")
	if dir == "" {
		t.Skip("set PLOTS_SAMPLES=DIR to write sample figures")
	}
	one := []Run{{Name: "teacher-student", Events: synthRun(synthOpts{diverge: true})}}
	two := append(one, Run{Name: "adaptive γ=2", Events: synthRun(synthOpts{seed: 7, better: 0.04})})
	for _, c := range []struct {
		sub  string
		runs []Run
		opt  Options
	}{
		{"one", one, Options{}},
		{"one-smooth", one, Options{Smooth: 0.8}},
		{"two", two, Options{Smooth: 0.6}},
		{"one-epoch", one, Options{XAxis: "epoch"}},
		{"long", []Run{{Name: "long", Events: synthRun(synthOpts{steps: 100_000, diverge: true})}}, Options{Smooth: 0.95}},
	} {
		for _, f := range Formats() {
			o := c.opt
			o.Format = f
			o.OutDir = dir + "/" + c.sub
			res, err := Export(c.runs, o)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(c.sub, f, res.Skipped, res.Warnings)
		}
	}
}
