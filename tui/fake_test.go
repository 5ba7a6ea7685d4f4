package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/enginetest"
)

// fakeTrainer is the shared scriptable trainer with the finish the
// synthetic run's clock wants.
type fakeTrainer struct{ *enginetest.Fake }

func newFake() *fakeTrainer { return &fakeTrainer{enginetest.New(64)} }

// finish delivers the done event at step and closes the channel.
func (f *fakeTrainer) finish(step int64, msg string) {
	f.Finish(engine.Event{Kind: engine.KindDone, Step: step, Time: at(step), Message: msg})
}

// t0 anchors event times so rendered screens (log times, ETA) are stable.
var t0 = time.Date(2026, 1, 2, 9, 30, 0, 0, time.UTC)

// at is the event time of a step in the synthetic run: 10 steps a second.
func at(step int64) time.Time { return t0.Add(time.Duration(step) * 100 * time.Millisecond) }

const spe = 200 // synthetic steps per epoch

func ep(step int64) float64 { return float64(step) / spe }

// synthPoint is a smooth, deterministic stand-in for a training curve.
func synthPoint(step int64, margin float64, student bool) engine.Event {
	x := float64(step)
	wob := 0.1 * math.Sin(x*0.37)
	v := map[string]float64{
		engine.MLoss:       5*math.Exp(-x/500) + 0.8 + wob + margin,
		engine.MMargin:     margin * math.Min(1, x/400),
		engine.MThetaLR:    45 + 40*math.Exp(-x/900) + 2*wob,
		engine.MThetaHR:    32 + 38*math.Exp(-x/600) + wob,
		engine.MImgPerSec:  812,
		engine.MLR:         0.1,
		engine.MAccLR:      1 - math.Exp(-x/700),
		engine.MMarginStd:  0,
		engine.MTotalSteps: 0, // ignored in points
	}
	phase := engine.PhaseTeacher
	if student {
		phase = engine.PhaseStudent
		v[engine.MLossCCLR] = 1.5*math.Exp(-(x-1500)/300) + 0.4 + wob/2
		v[engine.MLossCCHR] = 0.8*math.Exp(-(x-1500)/300) + 0.2 + wob/3
	}
	return engine.Event{Kind: engine.KindPoint, Step: step, Epoch: ep(step), Phase: phase, Time: at(step), Values: v}
}

func hyper(step int64, knob, old, new, by string) engine.Event {
	return engine.Event{Kind: engine.KindHyper, Step: step, Epoch: ep(step), Time: at(step), Knob: knob, Old: old, New: new, By: by}
}

func evalAt(step int64) engine.Event {
	a := 1 - 0.45*math.Exp(-float64(step)/900)
	return engine.Event{Kind: engine.KindEval, Step: step, Epoch: ep(step), Time: at(step), Values: map[string]float64{
		"hr.verif_acc": a, "lr8.verif_acc": a - 0.2, "hrlr8.verif_acc": a - 0.1, "hr.rank1": a - 0.05,
	}, Curves: map[string]engine.Curve{"roc.hr": {X: []float64{0, 1}, Y: []float64{0, 1}}}}
}

// synthRun is a scripted run of total steps delivered up to step upto: the
// teacher until step 1500 and the student after, a margin change 0.4→0.3 at
// step 600 by alice, checkpoints every 1000 steps, evals every 800.
func synthRun(total, upto int64) []engine.Event {
	evs := []engine.Event{
		{Kind: engine.KindStart, Phase: engine.PhaseTeacher, Time: at(0), Values: map[string]float64{engine.MTotalSteps: float64(total)}},
		{Kind: engine.KindPhase, Phase: engine.PhaseTeacher, Time: at(0)},
		{Kind: engine.KindLog, Time: at(0), Message: "data: synth, 300 train ids, 100 eval ids"},
	}
	margin := 0.4
	for s := int64(10); s <= upto; s += 10 {
		if s == 600 {
			evs = append(evs, hyper(s, "margin", "0.4", "0.3", "alice"))
			margin = 0.3
		}
		if s == 1500 {
			evs = append(evs, engine.Event{Kind: engine.KindPhase, Phase: engine.PhaseStudent, Step: s, Epoch: ep(s), Time: at(s)})
		}
		evs = append(evs, synthPoint(s, margin, s >= 1500))
		if s%800 == 0 {
			evs = append(evs, evalAt(s))
		}
		if s%1000 == 0 {
			evs = append(evs, engine.Event{Kind: engine.KindCheckpoint, Step: s, Epoch: ep(s), Time: at(s),
				Path: fmt.Sprintf("sessions/demo/ckpt-%06d.bin", s)})
		}
	}
	return evs
}

// chartColumnLines counts screen lines whose chart column (left of the last
// "│", the knob panel's separator) contains r.
func chartColumnLines(screen string, r rune) int {
	n := 0
	for _, l := range strings.Split(screen, "\n") {
		if i := strings.LastIndex(l, "│"); i > 0 && strings.ContainsRune(l[:i], r) {
			n++
		}
	}
	return n
}
