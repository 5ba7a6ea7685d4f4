package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/sweep"
)

// fixtureSpec is a 12-trial sweep: method × margin × 3 seeds.
const fixtureSpec = `name: margins
preset: tiny
set:
  eval.lr_sizes: 8
grid:
  method: [ccface, proxyless]
  margin: [0.3, 0.5]
seeds: [1, 2, 3]
`

// fixtureT0 anchors the fake trials' clocks so screens are stable.
var fixtureT0 = time.Date(2026, 1, 2, 9, 30, 0, 0, time.UTC)

const fixtureTotal = 600 // steps of a fake trial: teacher to 300, student to 600

// fixtureLR8 is a trial's final student LR rank-1 at 8 px: seeds share
// +0.03 a seed (a teacher's luck, removed by pairing), ccface adds
// 0.05 + 0.01*(seed-2), margin 0.5 adds 0.02.
func fixtureLR8(method, margin string, seed int64) float64 {
	v := 0.40 + 0.03*float64(seed)
	if method == "ccface" {
		v += 0.05 + 0.01*float64(seed-2)
	}
	if margin == "0.5" {
		v += 0.02
	}
	return v
}

// fixtureEval is an evaluation of model at step whose LR rank-1 is lr8;
// the other metrics follow it so the table has every column filled.
func fixtureEval(step int64, model string, lr8 float64) engine.Event {
	return engine.Event{Kind: engine.KindEval, Step: step, Epoch: float64(step) / 100, Time: fixtureT0.Add(time.Duration(step) * time.Second),
		Message: model + " (every 150 steps, 0.1s)", Values: map[string]float64{
			"hr.verif_acc": 0.95, "hr.rank1": 0.80, "lr8.verif_acc": lr8 + 0.3, "hrlr8.verif_acc": lr8 + 0.35,
			"lr8.rank1": lr8, "lr8.rank5": lr8 + 0.2, "lr8.rank20": lr8 + 0.3, "lr8.map": lr8 + 0.1,
		}}
}

// fixtureEvents is a trial's log up to step upto: a teacher (evaluated at
// its end, 0.1 below the student), then the student, evaluated at 450
// (0.03 below) and 600 (lr8).
func fixtureEvents(index int, lr8 float64, upto int64) []engine.Event {
	at := func(s int64) time.Time { return fixtureT0.Add(time.Duration(s) * time.Second) }
	evs := []engine.Event{
		{Kind: engine.KindStart, Phase: engine.PhaseTeacher, Time: at(0), Values: map[string]float64{engine.MTotalSteps: fixtureTotal}},
		{Kind: engine.KindPhase, Phase: engine.PhaseTeacher, Time: at(0)},
	}
	for s := int64(10); s <= upto; s += 10 {
		phase := engine.PhaseTeacher
		if s > 300 {
			phase = engine.PhaseStudent
		}
		if s == 310 {
			evs = append(evs, engine.Event{Kind: engine.KindPhase, Phase: engine.PhaseStudent, Step: s, Epoch: float64(s) / 100, Time: at(s)})
		}
		x := float64(s)
		loss := 4*math.Exp(-x/150) + 0.5 + 0.1*float64(index%4) + 0.05*math.Sin(x/7)
		evs = append(evs, engine.Event{Kind: engine.KindPoint, Step: s, Epoch: x / 100, Phase: phase, Time: at(s),
			Values: map[string]float64{engine.MLoss: loss, engine.MMargin: 0.3}})
		switch s {
		case 300:
			evs = append(evs, fixtureEval(s, engine.PhaseTeacher, lr8-0.1))
		case 450:
			evs = append(evs, fixtureEval(s, engine.PhaseStudent, lr8-0.03))
		case 600:
			evs = append(evs, fixtureEval(s, engine.PhaseStudent, lr8))
		}
	}
	return evs
}

// fixtureTrial writes trial index's session through the sessions package:
// its log up to upto, ended by end ("finished", "failed", "stopped"), or
// left running with the lock held until the test ends when end is "".
// It returns the session, locked when running.
func fixtureTrial(t *testing.T, sw *sweep.Sweep, index int, upto int64, end string) *sessions.Session {
	t.Helper()
	tr := sw.Trials[index]
	cfg, err := sw.Config(tr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sessions.Create(sw.TrialsRoot(), sessions.Manifest{ID: tr.ID(), Name: sw.Name + " " + tr.Name(), Config: cfg, Created: fixtureT0})
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unlock() })
	method, margin := "", ""
	for _, kv := range tr.Settings {
		switch kv.Knob {
		case "method":
			method = kv.Value
		case "margin":
			margin = kv.Value
		}
	}
	evs := fixtureEvents(index, fixtureLR8(method, margin, cfg.Seed), upto)
	at := fixtureT0.Add(time.Duration(upto) * time.Second)
	switch end {
	case "finished":
		evs = append(evs, engine.Event{Kind: engine.KindDone, Step: upto, Time: at, Message: "finished"})
	case "failed":
		evs = append(evs, engine.Event{Kind: engine.KindFailed, Step: upto, Time: at, Message: "loss is NaN"})
	case "stopped":
		evs = append(evs, engine.Event{Kind: engine.KindDone, Step: upto, Time: at, Message: "stopped by test"})
	}
	if err := s.Append(evs...); err != nil {
		t.Fatal(err)
	}
	if end == "" {
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	return s
}

// fixtureSweep plans fixtureSpec with `ccface sweep plan` and fakes its
// trials in every state a sweep shows:
//
//	t0–t2 ccface 0.3 seeds 1–3: finished     t6–t8 proxyless 0.3: finished
//	t3 ccface 0.5 seed 1: finished           t9 proxyless 0.5 seed 1: failed at 150
//	t4 ccface 0.5 seed 2: running at 420     t10 seed 2: interrupted at 200
//	t5 ccface 0.5 seed 3: queued             t11 seed 3: queued
//
// The running trial's session is returned, locked, to be moved on.
func fixtureSweep(t *testing.T) (*sweep.Sweep, *sessions.Session) {
	t.Helper()
	dir := t.TempDir()
	spec := filepath.Join(dir, "margins.yaml")
	if err := os.WriteFile(spec, []byte(fixtureSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "margins")
	if code, stdout, stderr := runCLI(t, "sweep", "plan", spec, "--out", out); code != 0 {
		t.Fatalf("sweep plan: exit %d\n%s%s", code, stdout, stderr)
	}
	sw, err := sweep.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(sw.Trials) != 12 {
		t.Fatalf("%d trials planned, want 12", len(sw.Trials))
	}
	for _, i := range []int{0, 1, 2, 3, 6, 7, 8} {
		fixtureTrial(t, sw, i, fixtureTotal, "finished")
	}
	fixtureTrial(t, sw, 9, 150, "failed")
	fixtureTrial(t, sw, 10, 200, "stopped")
	running := fixtureTrial(t, sw, 4, 420, "")
	return sw, running
}

// moveOn appends the running fixture trial's log from step from+10 to upto.
func moveOn(t *testing.T, s *sessions.Session, from, upto int64) {
	t.Helper()
	var evs []engine.Event
	for _, e := range fixtureEvents(4, fixtureLR8("ccface", "0.5", 2), upto) {
		if e.Step > from {
			evs = append(evs, e)
		}
	}
	if err := s.Append(evs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
}

func fmtPct(v float64) string { return fmt.Sprintf("%.1f", 100*v) }
