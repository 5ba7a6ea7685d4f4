package plots

import (
	"math"
	"time"

	"github.com/ccface/ccface/engine"
)

// noise is a tiny deterministic generator, so the synthetic runs and hence
// the golden images never change with the Go release.
type noise struct{ s uint64 }

func (n *noise) next() float64 {
	n.s ^= n.s << 13
	n.s ^= n.s >> 7
	n.s ^= n.s << 17
	return float64(n.s>>11)/float64(1<<53)*2 - 1
}

// synthOpts shapes a synthetic run.
type synthOpts struct {
	steps    int     // point events, one per step
	seed     uint64  // noise
	better   float64 // shifts accuracies up
	diverge  bool    // NaN/Inf loss at steps 120-122
	noEval   bool
	noCurves bool
}

// synthRun builds a run like the engine records it: a teacher phase, a
// student phase from half-way, a margin and a learning-rate change close
// together, evaluations every 100 steps with ROC and CMC curves, and a
// margin histogram on the last evaluation.
func synthRun(o synthOpts) []engine.Event {
	if o.steps == 0 {
		o.steps = 400
	}
	nz := &noise{s: 0x9E3779B97F4A7C15 ^ o.seed}
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	half := o.steps / 2
	perEpoch := float64(o.steps) / 10
	var evs []engine.Event
	at := func(step int) (float64, time.Time) {
		return float64(step) / perEpoch, t0.Add(time.Duration(step) * time.Second)
	}
	ev := func(k engine.Kind, step int) engine.Event {
		ep, tm := at(step)
		return engine.Event{Kind: k, Step: int64(step), Epoch: ep, Time: tm}
	}
	evs = append(evs, ev(engine.KindStart, 0))
	p := ev(engine.KindPhase, 0)
	p.Phase = engine.PhaseTeacher
	evs = append(evs, p)
	margin := 0.4
	for s := 1; s <= o.steps; s++ {
		phase := engine.PhaseTeacher
		if s == half+1 {
			p := ev(engine.KindPhase, s)
			p.Phase = engine.PhaseStudent
			evs = append(evs, p)
		}
		if s > half {
			phase = engine.PhaseStudent
		}
		if s == half+half/2 {
			h := ev(engine.KindHyper, s)
			h.Knob, h.Old, h.New, h.By = "margin", "0.4", "0.30000000000000004", "tui"
			evs = append(evs, h)
			margin = 0.3
		}
		if s == half+half/2+4 {
			h := ev(engine.KindHyper, s)
			h.Knob, h.Old, h.New, h.By = "lr", "0.1", "0.05", "tui"
			evs = append(evs, h)
		}
		if s == half/2 {
			h := ev(engine.KindHyper, s)
			h.Knob, h.Old, h.New = "scale", "32", "48"
			evs = append(evs, h)
		}
		x := float64(s) / float64(o.steps)
		m := margin * math.Min(1, x*4)
		v := map[string]float64{
			engine.MLoss:      12*math.Exp(-x*5) + 1 + 0.3*nz.next(),
			engine.MLossCCHR:  9*math.Exp(-x*4) + 0.6 + 0.2*nz.next(),
			engine.MMargin:    m + 0.01*nz.next(),
			engine.MMarginStd: 0.02 + 0.04*x + 0.005*nz.next(),
			engine.MThetaLR:   75 - 30*x + 2*nz.next(),
			engine.MThetaHR:   70 - 35*x + 2*nz.next(),
			engine.MLR:        0.1,
		}
		if phase == engine.PhaseStudent {
			y := float64(s-half) / float64(half)
			v[engine.MLossCCLR] = 3*math.Exp(-y*3) + 0.4 + 0.15*nz.next()
			v[engine.MTeacherStudentCos] = 0.3 + 0.5*(1-math.Exp(-y*4)) + 0.02*nz.next()
			v[engine.MClusterLR] = 0.25 - 0.15*y + 0.01*nz.next()
			v[engine.MClusterHR] = 0.15 - 0.1*y + 0.01*nz.next()
		}
		if o.diverge && s >= 120 && s <= 122 {
			v[engine.MLoss] = math.NaN()
			if s == 121 {
				v[engine.MLoss] = math.Inf(1)
			}
		}
		pt := ev(engine.KindPoint, s)
		pt.Phase = phase
		pt.Values = v
		evs = append(evs, pt)
		if !o.noEval && s%100 == 0 {
			evs = append(evs, synthEval(ev(engine.KindEval, s), x, o, s == o.steps))
		}
	}
	evs = append(evs, ev(engine.KindDone, o.steps))
	return evs
}

// synthEval is an evaluation at training progress x in (0, 1].
func synthEval(e engine.Event, x float64, o synthOpts, last bool) engine.Event {
	acc := func(px int) float64 {
		res := 1 - math.Exp(-float64(px)/10)
		return math.Min(0.99, (0.35+0.55*x)*res+o.better)
	}
	e.Values = map[string]float64{}
	e.Curves = map[string]engine.Curve{}
	e.Values[engine.EvalKey("hr", engine.ERank1)] = math.Min(0.99, 0.4+0.5*x+o.better)
	e.Values[engine.EvalKey("hr", engine.EVerifAcc)] = math.Min(0.99, 0.6+0.35*x+o.better)
	for _, px := range []int{8, 12, 16, 24} {
		e.Values[engine.EvalKey(engine.LRView(px), engine.ERank1)] = acc(px)
		e.Values[engine.EvalKey(engine.LRView(px), engine.EVerifAcc)] = 0.5 + acc(px)/2.2
		e.Values[engine.EvalKey(engine.HRLRView(px), engine.EVerifAcc)] = 0.5 + acc(px)/2
	}
	if o.noCurves {
		return e
	}
	roc := func(q float64) engine.Curve {
		var c engine.Curve
		c.X = append(c.X, 0)
		c.Y = append(c.Y, 0)
		for far := 1e-5; far <= 1.0001; far *= 1.5 {
			c.X = append(c.X, math.Min(far, 1))
			c.Y = append(c.Y, math.Pow(math.Min(far, 1), 1-q))
		}
		return c
	}
	cmc := func(q float64) engine.Curve {
		var c engine.Curve
		for r := 1; r <= 20; r++ {
			c.X = append(c.X, float64(r))
			c.Y = append(c.Y, 1-(1-q)*math.Exp(-float64(r-1)/6))
		}
		return c
	}
	hr := e.Values["hr.rank1"]
	e.Curves["roc.hr"] = roc(0.2 + 0.7*hr)
	e.Curves["roc.lr8"] = roc(0.5 * acc(8))
	e.Curves["roc.hrlr8"] = roc(0.6 * acc(8))
	e.Curves["cmc.hr"] = cmc(hr)
	e.Curves["cmc.lr8"] = cmc(acc(8))
	if last {
		var c engine.Curve
		for i := range 24 {
			cx := 0.1 + float64(i)*0.0125
			c.X = append(c.X, cx)
			c.Y = append(c.Y, math.Round(400*math.Exp(-math.Pow((cx-0.27-o.better/5)/0.05, 2))))
		}
		e.Curves[CurveMarginHist] = c
	}
	return e
}
