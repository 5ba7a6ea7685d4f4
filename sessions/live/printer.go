package live

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ccface/ccface/engine"
)

// Printer turns events into the headless progress lines and tables.
type Printer struct {
	w       io.Writer
	every   time.Duration
	last    time.Time
	total   int64
	start   time.Time
	startAt int64
	evals   []engine.Event
	lastPt  engine.Event
	printed int64 // step of the last progress line
	// continues is set when the run continues a recorded history (a
	// resume or fork), as opposed to starting one.
	continues bool
}

// NewPrinter prints a progress line at most every so often (and at each
// tenth of the run) on w.
func NewPrinter(w io.Writer, every time.Duration) *Printer {
	return &Printer{w: w, every: every}
}

// Headless is the front end of `--headless`: progress lines and tables on
// w until the run ends, then every evaluation side by side (those of the
// history a resumed run continues too). Each also sees every event after
// the printer (e.g. Katib metric lines of a sweep trial).
func Headless(r *Run, w io.Writer, also ...func(engine.Event)) error {
	p := NewPrinter(w, 3*time.Second)
	p.Continues(r.Prior())
	failed := r.Watch(func(ev engine.Event) {
		p.Event(ev)
		for _, f := range also {
			f(ev)
		}
	})
	p.Summary()
	fmt.Fprintf(w, "session: %s\n", r.sess.Dir)
	return failed
}

// progressPrinter prints a run's progress lines from a goroutine of its
// own, for a front end that shows the run elsewhere too (the SSH server
// prints them on its terminal).
type progressPrinter struct {
	done chan struct{}
	end  engine.Event // the run's KindDone or KindFailed event; read after done
}

// printProgress prints r's progress lines and final table on w, a line at
// most every so often, until the run ends (see progressPrinter.ended).
func (r *Run) printProgress(w io.Writer, every time.Duration) *progressPrinter {
	pr := &progressPrinter{done: make(chan struct{})}
	go func() {
		defer close(pr.done)
		p := NewPrinter(w, every)
		p.Continues(r.Prior())
		_ = r.Watch(func(ev engine.Event) { // a failure is read from the end event
			p.Event(ev)
			if ev.Kind == engine.KindDone || ev.Kind == engine.KindFailed {
				pr.end = ev
			}
		})
		p.Summary()
	}()
	return pr
}

// ended is closed once the run has ended and its table is printed.
func (pr *progressPrinter) ended() <-chan struct{} { return pr.done }

// outcome says how the run ended ("failed at step 12", "ended at step 40
// (finished)"). Call it after ended.
func (pr *progressPrinter) outcome() string {
	switch pr.end.Kind {
	case engine.KindFailed:
		return fmt.Sprintf("failed at step %d", pr.end.Step)
	case engine.KindDone:
		return fmt.Sprintf("ended at step %d (%s)", pr.end.Step, pr.end.Message)
	}
	return "ended"
}

// failure is the run's failure, nil when it did not fail. Call it after
// ended.
func (pr *progressPrinter) failure() error {
	if pr.end.Kind == engine.KindFailed {
		return errors.New(pr.end.Message)
	}
	return nil
}

// Continues tells the printer the recorded history the run continues:
// nothing of it is printed as progress (it happened before), but its
// evaluations head the summary.
func (p *Printer) Continues(history []engine.Event) {
	p.continues = len(history) > 0
	for _, ev := range history {
		if ev.Kind == engine.KindEval {
			p.addEval(ev)
		}
	}
}

// addEval adds an evaluation to the summary. One of the same model at the
// same step (a run resumed from a checkpoint taken before that evaluation
// was made again) replaces the earlier one.
func (p *Printer) addEval(ev engine.Event) {
	model := evalModel(ev)
	for i, old := range p.evals {
		if old.Step == ev.Step && evalModel(old) == model {
			p.evals[i] = ev
			return
		}
	}
	p.evals = append(p.evals, ev)
}

// evalModel is the model an evaluation event scored ("teacher", "student").
func evalModel(ev engine.Event) string {
	name, _, _ := strings.Cut(ev.Message, " ")
	return name
}

// Event prints what ev says, if anything.
func (p *Printer) Event(ev engine.Event) {
	switch ev.Kind {
	case engine.KindStart:
		p.total = int64(ev.Values[engine.MTotalSteps])
		p.start, p.startAt = time.Now(), ev.Step
		switch {
		case ev.Phase == engine.PhaseDone:
			fmt.Fprintln(p.w, "the run had finished: nothing left to train")
		case p.continues: // Open has said from where
			fmt.Fprintf(p.w, "continuing in the %s phase: %s, %d steps in all\n", ev.Phase, ev.Message, p.total)
		default:
			fmt.Fprintf(p.w, "start: %s, %d steps in all\n", ev.Message, p.total)
		}
	case engine.KindPoint:
		p.lastPt = ev
		// Every few seconds, and at each tenth of the run, so short runs
		// show their curve too.
		tenth := p.total > 0 && ev.Step*10/p.total != (ev.Step-1)*10/p.total
		if time.Since(p.last) >= p.every || tenth {
			p.last, p.printed = time.Now(), ev.Step
			fmt.Fprintln(p.w, p.progress(ev))
		}
	case engine.KindPhase, engine.KindLog, engine.KindState:
		fmt.Fprintf(p.w, "[step %d] %s\n", ev.Step, ev.Message)
	case engine.KindHyper:
		fmt.Fprintf(p.w, "[step %d] %s %s → %s (by %s)\n", ev.Step, ev.Knob, ev.Old, ev.New, ev.By)
	case engine.KindCheckpoint:
		fmt.Fprintf(p.w, "[step %d] checkpoint %s (%s)\n", ev.Step, ev.Path, ev.Message)
	case engine.KindEval:
		p.addEval(ev)
		fmt.Fprintf(p.w, "[step %d] evaluation of the %s\n", ev.Step, ev.Message)
		fmt.Fprint(p.w, EvalTable([]engine.Event{ev}))
	case engine.KindFailed:
		fmt.Fprintf(p.w, "[step %d] FAILED: %s\n", ev.Step, ev.Message)
	case engine.KindDone:
		if p.lastPt.Kind != "" && p.lastPt.Step != p.printed {
			fmt.Fprintln(p.w, p.progress(p.lastPt))
		}
		fmt.Fprintf(p.w, "[step %d] %s\n", ev.Step, ev.Message)
	}
}

// progress renders one line: phase, epoch, step, loss terms, rates, ETA.
func (p *Printer) progress(ev engine.Event) string {
	v := ev.Values
	var b strings.Builder
	fmt.Fprintf(&b, "%-7s ep %5.2f  step %d/%d  loss %.3f", ev.Phase, ev.Epoch, ev.Step, p.total, v[engine.MLoss])
	var terms []string
	for k := range v {
		if strings.HasPrefix(k, "loss_") {
			terms = append(terms, k)
		}
	}
	sort.Strings(terms)
	for _, k := range terms {
		fmt.Fprintf(&b, " %s %.3f", strings.TrimPrefix(k, "loss_"), v[k])
	}
	if a, ok := v[engine.MAccLR]; ok {
		fmt.Fprintf(&b, "  acc lr %.2f hr %.2f", a, v[engine.MAccHR])
	} else {
		fmt.Fprintf(&b, "  acc %.2f", v[engine.MAccHR])
	}
	fmt.Fprintf(&b, "  m %.2f  lr %.3g  %.0f img/s", v[engine.MMargin], v[engine.MLR], v[engine.MImgPerSec])
	if done := ev.Step - p.startAt; done > 0 && p.total > ev.Step {
		eta := time.Duration(float64(time.Since(p.start)) / float64(done) * float64(p.total-ev.Step))
		fmt.Fprintf(&b, "  ETA %s", eta.Round(time.Second))
	}
	return b.String()
}

// Summary prints every evaluation of the run side by side.
func (p *Printer) Summary() {
	if len(p.evals) == 0 {
		return
	}
	fmt.Fprintln(p.w, "\nResults (evaluation identities, disjoint from training):")
	fmt.Fprint(p.w, EvalTable(p.evals))
}

// EvalTable renders rank-1 identification (HR gallery, probes at each
// resolution) and verification accuracy, one row per evaluation.
func EvalTable(evals []engine.Event) string {
	views := EvalViews(evals)
	var b strings.Builder
	fmt.Fprintf(&b, "  %-10s", "model")
	for _, v := range views {
		fmt.Fprintf(&b, " %9s", v+" r1")
	}
	for _, v := range views {
		fmt.Fprintf(&b, " %9s", v+" ver")
	}
	for _, v := range views {
		if v != "hr" {
			fmt.Fprintf(&b, " %10s", "hr-"+v+" ver")
		}
	}
	b.WriteString("\n")
	for _, ev := range evals {
		fmt.Fprintf(&b, "  %-10s", evalModel(ev))
		for _, v := range views {
			b.WriteString(pct(ev.Values, engine.EvalKey(v, engine.ERank1), 9))
		}
		for _, v := range views {
			b.WriteString(pct(ev.Values, engine.EvalKey(v, engine.EVerifAcc), 9))
		}
		for _, v := range views {
			if v != "hr" {
				b.WriteString(pct(ev.Values, engine.EvalKey("hr"+v, engine.EVerifAcc), 10))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func pct(values map[string]float64, key string, width int) string {
	v, ok := values[key]
	if !ok || math.IsNaN(v) {
		return fmt.Sprintf(" %*s", width, "-")
	}
	return fmt.Sprintf(" %*.1f", width, 100*v)
}

// EvalViews lists "hr" then the LR views found, largest side first.
func EvalViews(evals []engine.Event) []string {
	sides := map[int]bool{}
	for _, ev := range evals {
		for k := range ev.Values {
			var px int
			if _, err := fmt.Sscanf(k, "lr%d.", &px); err == nil {
				sides[px] = true
			}
		}
	}
	var list []int
	for s := range sides {
		list = append(list, s)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(list)))
	views := []string{"hr"}
	for _, s := range list {
		views = append(views, engine.LRView(s))
	}
	return views
}
