package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/ccface/ccface/sessions/live"
)

// compareSweepFlags are compare's flags for tabulating a planned sweep
// instead of training runs of its own.
type compareSweepFlags struct {
	dir, baseline string
}

func registerCompareSweep(fs *flag.FlagSet) *compareSweepFlags {
	f := &compareSweepFlags{}
	fs.StringVar(&f.dir, "sweep", "", "tabulate this sweep folder's finished trials instead of training (rows: knob settings, mean ± std over seeds)")
	fs.StringVar(&f.baseline, "baseline", "", "with --sweep: the method of the paired differences (default: proxyless when swept, else the first method)")
	return f
}

// given says whether compare was asked to read a sweep (--baseline alone
// is a mistake that run reports).
func (f *compareSweepFlags) given() bool { return f.dir != "" || f.baseline != "" }

// run is `ccface compare --sweep DIR`. The sweep's plan fixed its trials,
// so compare's training flags are refused rather than silently ignored;
// the tables go to DIR/compare unless --out says otherwise.
func (f *compareSweepFlags) run(fs *flag.FlagSet, out string, stdout io.Writer) error {
	if f.dir == "" {
		return fmt.Errorf("--baseline %s goes with --sweep DIR: it picks the method a sweep's paired differences are taken against", f.baseline)
	}
	outSet := false
	var bad string
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "sweep", "baseline":
		case "out":
			outSet = true
		default:
			if bad == "" {
				bad = fl.Name
			}
		}
	})
	if bad != "" {
		return fmt.Errorf("--%s does not apply to --sweep: the sweep's plan fixed its trials (only --out and --baseline go with --sweep)", bad)
	}
	if !outSet {
		out = "" // the sweep folder's compare/
	}
	return live.CompareSweep(live.SweepCompareSpec{Dir: f.dir, Out: out, Baseline: f.baseline, Log: stdout})
}
