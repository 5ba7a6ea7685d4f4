package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/nn"
)

// errStopped ends a phase early at the user's request.
var errStopped = errors.New("stopped")

// phaseSeed separates the data order of the two phases.
func phaseSeed(seed int64, phase string) int64 {
	if phase == engine.PhaseStudent {
		return seed*7919 + 2
	}
	return seed*7919 + 1
}

func (e *Engine) loop(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			e.emit(engine.Event{Kind: engine.KindFailed, Message: fmt.Sprintf("engine panic: %v\n%s", r, debug.Stack())})
		}
		e.mu.Lock()
		e.ended = true
		e.mu.Unlock()
		e.box.close()
	}()
	e.emit(engine.Event{Kind: engine.KindStart, Values: map[string]float64{engine.MTotalSteps: float64(e.totalSteps())},
		Message: fmt.Sprintf("%d training / %d evaluation identities", e.train.NumIDs(), e.eval.NumIDs())})
	if note := PairsNote(e.cfg, e.eval, e.protocol); note != "" {
		e.logf("%s", note)
	}
	for _, phase := range e.phases() {
		if phaseIndex(e.st.Phase) > phaseIndex(phase) {
			continue
		}
		err := e.runPhase(ctx, phase)
		if errors.Is(err, errStopped) || ctx.Err() != nil {
			e.saveCheckpoint("stop")
			e.emit(engine.Event{Kind: engine.KindDone, Message: fmt.Sprintf("stopped at step %d", e.st.Step)})
			return
		}
		if err != nil {
			e.emit(engine.Event{Kind: engine.KindFailed, Message: err.Error()})
			return
		}
	}
	e.st.Phase = engine.PhaseDone
	e.saveCheckpoint("finished")
	e.emit(engine.Event{Kind: engine.KindDone, Message: "finished"})
}

func phaseIndex(p string) int {
	switch p {
	case engine.PhaseTeacher:
		return 0
	case engine.PhaseStudent:
		return 1
	}
	return 2
}

func (e *Engine) stepsPerEpoch(phase string) int {
	return e.train.Len() / e.cfg.Phase(phase).Batch
}

func (e *Engine) phaseSteps(phase string) int64 { return e.phaseStepsOf(e.cfg, phase) }

// phaseStepsOf is phaseSteps under another configuration of the same data.
func (e *Engine) phaseStepsOf(cfg engine.Config, phase string) int64 {
	return int64(e.train.Len() / cfg.Phase(phase).Batch * cfg.Phase(phase).Epochs)
}

// phases lists the phases of the run: the `teacher` method only trains
// (or, resumed, only evaluates) the teacher.
func (e *Engine) phases() []string {
	if e.cfg.Method == "teacher" {
		return []string{engine.PhaseTeacher}
	}
	return []string{engine.PhaseTeacher, engine.PhaseStudent}
}

func (e *Engine) totalSteps() int64 {
	var n int64
	for _, p := range e.phases() {
		n += e.phaseSteps(p)
	}
	return n
}

// phaseRun is what one phase builds once and reuses every step.
type phaseRun struct {
	phase   string
	batch   int
	per     int  // samples of the batch per replica
	twoView bool // each sample passes as an LR view and an HR view
	nets    []*nn.Net
	// Embedding-only graphs on the HR views, per replica: the frozen
	// teacher's (targets, agreement, teacher-student cosine) and, when the
	// cross-resolution target is the student's own, the student's.
	teacherEmb, studentEmb []*nn.Net
	tEmb, sEmb             [][]float32 // their outputs of this step, per replica
	classifierRows         []float32   // the frozen W_T, rows normalised
	gather                 *nn.Gather  // pools the replicas' cross-resolution predictions (nil: one replica)
	trained                nn.Params
	sum                    [][]float32
	loader                 *datasets.Loader
	batches                prefetcher
	data                   *datasets.Batch // this step's batch
}

func (e *Engine) startPhase(phase string) (*phaseRun, error) {
	st := e.st
	if st.Phase != phase { // entering the phase fresh (not resuming inside it)
		e.enterPhase(phase)
	}
	pc := e.cfg.Phase(phase)
	r := replicas(e.cfg.Replicas, pc.Batch)
	loader, err := datasets.NewSourceLoader(e.train, e.cfg.Data.HR, pc.Batch, phaseSeed(e.cfg.Seed, phase), datasets.LoaderOptions{})
	if err != nil {
		return nil, err
	}
	pr := &phaseRun{phase: phase, batch: pc.Batch, per: pc.Batch / r, loader: loader, batches: prefetcher{loader: loader}}
	// An imported teacher stays frozen: its phase trains the classifier.
	frozen := e.archs.teacher.Imported != nil
	spec := nn.NetSpec{Arch: e.archs.teacher, N: pr.per, Loss: true, TrainBackbone: !frozen, TrainClassifier: true}
	backbone, classifier := st.Teacher, st.Classifier
	if phase == engine.PhaseTeacher && frozen && st.Step == 0 && st.PhaseStep == 0 {
		e.logf("embedding the %d training images with the frozen teacher for its classifier's class means...", e.train.Len())
		if err := e.classMeans(st.Classifier); err != nil {
			return nil, err
		}
		e.logf("classifier: the mean %s embedding of each of the %d training identities", e.cfg.Model.Teacher, e.train.NumIDs())
	}
	if phase == engine.PhaseStudent {
		spec.Arch, spec.TrainBackbone = e.archs.student, true
		if err := e.prepareStudent(pr, &spec); err != nil {
			return nil, err
		}
		backbone, classifier = st.Student, st.Classifier
		if st.StudentClassifier != nil {
			classifier = st.StudentClassifier
		}
	}
	for i := 0; i < r; i++ {
		net, err := nn.NewNet(spec, backbone, classifier)
		if err != nil {
			return nil, err
		}
		pr.nets = append(pr.nets, net)
	}
	pr.trained = pr.nets[0].Trained()
	for _, p := range pr.trained {
		pr.sum = append(pr.sum, make([]float32, len(p.Data)))
	}
	return pr, nil
}

func (e *Engine) runPhase(ctx context.Context, phase string) error {
	pr, err := e.startPhase(phase)
	if err != nil {
		return err
	}
	defer pr.batches.wait()
	if e.st.PhaseStep == 0 { // a run resumed inside the phase is not a new phase: its start event says where it is
		e.emit(engine.Event{Kind: engine.KindPhase, Message: fmt.Sprintf("%s phase: %d epochs of %d steps, %d graph replicas",
			phase, e.cfg.Phase(phase).Epochs, e.stepsPerEpoch(phase), len(pr.nets))})
	}
	total := e.phaseSteps(phase)
	var rate throughput
	for e.st.PhaseStep < total {
		if err := e.handleCommands(ctx); err != nil {
			return err
		}
		t0 := time.Now()
		values, err := e.step(pr)
		if err != nil {
			return fmt.Errorf("train: %s step %d: %w", phase, e.st.Step, err)
		}
		values[engine.MImgPerSec] = rate.add(pr.batch, time.Since(t0))
		var curves map[string]engine.Curve
		if phase == engine.PhaseStudent && pr.twoView && e.st.PhaseStep%marginHistEvery == 1 {
			curves = map[string]engine.Curve{engine.CurveMarginHist: marginHist(pr, e.cfg.Hyper.Margin)}
		}
		e.point(values, curves)
		if ck := e.cfg.Hyper.Checkpoint; ck.EverySteps > 0 && e.st.Step%int64(ck.EverySteps) == 0 {
			e.saveCheckpoint(fmt.Sprintf("every %d steps", ck.EverySteps))
		} else if ck.EveryMinutes > 0 && time.Since(e.lastSave) >= time.Duration(ck.EveryMinutes*float64(time.Minute)) {
			e.saveCheckpoint(fmt.Sprintf("every %g minutes", ck.EveryMinutes))
		}
	}
	pr.batches.wait()
	pr.loader.Close()
	if problems, n := pr.loader.Unreadable(); n > 0 {
		e.logf("%d unreadable training images were skipped, e.g. %s", n, strings.Join(problems[:min(3, len(problems))], "; "))
	}
	e.evaluate(phase, "end of "+phase+" phase")
	// The checkpoint after the evaluation already stands at the start of
	// the next phase, so a run resumed (or forked) from it does not
	// evaluate this phase again; after the last phase, the loop's final
	// checkpoint is the only one.
	if next := e.nextPhase(phase); next != "" {
		e.enterPhase(next)
		e.saveCheckpoint("end of " + phase + " phase")
	}
	return nil
}

// nextPhase is the phase after phase in this run, or "".
func (e *Engine) nextPhase(phase string) string {
	phases := e.phases()
	for i, p := range phases[:len(phases)-1] {
		if p == phase {
			return phases[i+1]
		}
	}
	return ""
}

// enterPhase starts phase afresh: its own step count and optimiser state.
func (e *Engine) enterPhase(phase string) {
	e.st.Phase, e.st.PhaseStep, e.st.Opt = phase, 0, nn.SGD{}
}

// handleCommands applies queued requests; while paused it waits for them.
func (e *Engine) handleCommands(ctx context.Context) error {
	for {
		if e.stopRequested() {
			return errStopped
		}
		var c command
		if e.paused {
			select {
			case c = <-e.cmds:
			case <-ctx.Done():
				return ctx.Err()
			}
		} else {
			select {
			case c = <-e.cmds:
			case <-ctx.Done():
				return ctx.Err()
			default:
				return nil
			}
		}
		e.apply(c)
	}
}

func (e *Engine) apply(c command) {
	switch c.kind {
	case cmdKnob:
		k, err := engine.FindKnob(c.knob)
		if err != nil {
			e.logf("knob change refused: %v", err)
			return
		}
		next, err := engine.SetLive(e.cfg, c.knob, c.value)
		if err != nil {
			e.logf("knob change refused: %v", err)
			return
		}
		old := k.Get(&e.cfg)
		e.cfg = next
		ev := engine.Event{Kind: engine.KindHyper, Knob: c.knob, Old: old, New: k.Get(&e.cfg), By: c.by}
		e.stamp(&ev)
		e.st.History = append(e.st.History, ev)
		e.box.add(true, ev)
	case cmdPause, cmdResume:
		e.paused = c.kind == cmdPause
		msg := "running"
		if e.paused {
			msg = "paused"
		}
		e.emit(engine.Event{Kind: engine.KindState, Message: msg, By: c.by})
	case cmdCheckpoint:
		e.saveCheckpoint("requested by " + orSomeone(c.by))
	case cmdEval:
		e.evaluate(e.st.Phase, "requested by "+orSomeone(c.by))
	case cmdStop:
		// handled through stopRequested
	}
}

func orSomeone(by string) string {
	if by == "" {
		return "user"
	}
	return by
}

func (e *Engine) saveCheckpoint(reason string) {
	if e.opts.Save == nil {
		return
	}
	e.lastSave = time.Now()
	blob, err := encodeState(e.st, e.cfg)
	if err == nil {
		var path string
		if path, err = e.opts.Save(e.st.Step, blob); err == nil {
			e.emit(engine.Event{Kind: engine.KindCheckpoint, Path: path, Message: reason})
			return
		}
	}
	e.logf("checkpoint failed: %v", err)
}

// step trains on one batch and returns its metrics.
func (e *Engine) step(pr *phaseRun) (map[string]float64, error) {
	st, cfg, h := e.st, e.cfg, e.cfg.Hyper
	pc := cfg.Phase(pr.phase)
	spe := int64(e.stepsPerEpoch(pr.phase))
	epoch, index := int(st.PhaseStep/spe), int(st.PhaseStep%spe)
	ep := float64(st.PhaseStep) / float64(spe)
	student := pr.phase == engine.PhaseStudent
	hrPLR := 0.0
	if student && !pr.twoView {
		hrPLR = h.Aug.PLR // arcface-aug: mixed HR/LR views
	}
	key := fillKey{epoch: epoch, index: index, aug: h.Aug, hrPLR: hrPLR, wantLR: student && pr.twoView}
	pr.data = pr.batches.take(key)
	if next := st.PhaseStep + 1; next < e.phaseSteps(pr.phase) {
		key.epoch, key.index = int(next/spe), int(next%spe)
		pr.batches.start(key)
	}

	lr := lrAt(h.PhaseLR(pr.phase), h.LRSchedule, float64(st.PhaseStep)/float64(e.phaseSteps(pr.phase)), float64(pc.Epochs), pc.LRWarmup)
	m := marginAt(h.Margin, ep, pc.MarginWarmup, pc.MarginRamp)
	if student {
		if err := e.prepareStudentStep(pr, m); err != nil {
			return nil, err
		}
	} else {
		e.prepareTeacherStep(pr, m)
	}
	if err := forwardBackward(pr); err != nil {
		return nil, err
	}
	st.Opt.Step(pr.trained, pr.sum, lr, h.Momentum, h.WeightDecay)
	values := e.measure(pr)
	if student {
		e.studentMetrics(pr, values)
		if pr.twoView && (h.Policy == "quality" || h.Head == "adaface") {
			st.StudentAdaMean, st.StudentAdaStd = adaStats(pr, 0, pr.per, st.StudentAdaMean, st.StudentAdaStd)
		}
		if pr.twoView {
			st.AgreeMean = runningMean(st.AgreeMean, values[engine.MTeacherStudentCos], h.AgreeMomentum)
		}
	} else if h.Head == "adaface" {
		st.AdaMean, st.AdaStd = adaStats(pr, 0, pr.per, st.AdaMean, st.AdaStd)
	}
	values[engine.MLR] = lr
	st.PhaseStep++
	st.Step++
	st.epoch = float64(st.PhaseStep) / float64(spe)
	if !finite(values[engine.MLoss]) {
		return nil, fmt.Errorf("loss is %v (diverged): lower the learning rate or the margin and resume from the last checkpoint", values[engine.MLoss])
	}
	return values, nil
}

// forwardBackward runs every replica on its share of the prepared batch and
// sums their gradients into pr.sum (replica order: deterministic).
func forwardBackward(pr *phaseRun) error {
	if err := runAll(pr.nets); err != nil {
		return err
	}
	for _, s := range pr.sum {
		clear(s)
	}
	for _, net := range pr.nets {
		grads, err := net.Grads()
		if err != nil {
			return err
		}
		for i, g := range grads {
			s := pr.sum[i]
			for j, v := range g {
				s[j] += v
			}
			clear(g)
		}
	}
	return nil
}

// prepareTeacherStep fills each replica with its share of the HR batch.
func (e *Engine) prepareTeacherStep(pr *phaseRun, m float64) {
	h, st := e.cfg.Hyper, e.st
	img := 3 * e.cfg.Data.HR * e.cfg.Data.HR
	for r, net := range pr.nets {
		lo, hi := r*pr.per, (r+1)*pr.per
		copy(net.Input(), pr.data.HR[lo*img:hi*img])
		hd := net.Head
		hd.Scale = h.Scale
		hd.Labels = append(hd.Labels[:0], pr.data.Labels[lo:hi]...)
		hd.Weights = fill(hd.Weights, pr.per, 1/float32(pr.batch))
		hd.Margin = marginFunc(h.Head, m, h.H, st.AdaMean, st.AdaStd)
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func runAll(nets []*nn.Net) error {
	if len(nets) == 1 {
		return nets[0].Run()
	}
	errs := make([]error, len(nets))
	var wg sync.WaitGroup
	for i, n := range nets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.Run()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// marginFunc returns the per-sample margins of a head. AdaFace reads the
// feature-norm statistics of the steps before (updated after each step, so
// replicas see the same values and the run stays deterministic).
func marginFunc(head string, m, h, mean, std float64) nn.MarginFunc {
	return func(_ int, s nn.SampleStat) (float64, float64) {
		return headMargin(head, m, h, s.Norm, mean, std)
	}
}

// headMargin gives a margin of size m the form of a head: the angular and
// additive parts (g, a) of ArcFace (m, 0), CosFace (0, m) or AdaFace.
func headMargin(head string, m, h, norm, mean, std float64) (g, a float64) {
	switch head {
	case "cosface":
		return 0, m
	case "adaface":
		return adaMargin(m, h, norm, mean, std)
	}
	return m, 0
}

// adaMargin is AdaFace's margin: ẑ = clip((‖f‖−μ)/σ·h, −1, 1) moves it
// from angular (high-quality, large norm) to additive (low quality). With
// statistics still unset it is the plain m of both.
func adaMargin(m, h, norm, mean, std float64) (g, a float64) {
	if std == 0 {
		return 0, m
	}
	z := math.Max(-1, math.Min(1, (norm-mean)/(std+1e-3)*h))
	return -m * z, m*z + m
}

// adaStats folds the feature norms of samples [lo,hi) of every replica
// into AdaFace's running mean and standard deviation (momentum 0.01).
func adaStats(pr *phaseRun, lo, hi int, mean, std float64) (float64, float64) {
	var sum, sq float64
	n := 0
	for _, net := range pr.nets {
		for _, v := range net.Norms()[lo:hi] {
			sum += float64(v)
			sq += float64(v) * float64(v)
			n++
		}
	}
	bm := sum / float64(n)
	bs := math.Sqrt(math.Max(0, sq/float64(n)-bm*bm))
	if std == 0 { // unset: start from this batch
		return bm, bs
	}
	const momentum = 0.01
	return momentum*bm + (1-momentum)*mean, momentum*bs + (1-momentum)*std
}

// measure turns the heads' per-sample results into the step's metrics.
func (e *Engine) measure(pr *phaseRun) map[string]float64 {
	per, twoView := pr.per, pr.phase == engine.PhaseStudent && pr.twoView
	var lr, hr viewStats
	var loss float64
	for _, net := range pr.nets {
		hd := net.Head
		loss += hd.Loss
		emb := net.Embeddings()
		dim := e.cfg.Model.Embed
		if twoView {
			lr.add(hd, 0, per, emb, dim)
			hr.add(hd, per, 2*per, emb, dim)
		} else {
			hr.add(hd, 0, per, emb, dim)
		}
	}
	v := map[string]float64{engine.MLoss: loss}
	v[engine.MLossCCHR] = hr.ce / float64(hr.n)
	v[engine.MAccHR] = float64(hr.correct) / float64(hr.n)
	v[engine.MThetaHR] = hr.theta / float64(hr.n)
	setFinite(v, engine.MClusterHR, hr.cluster())
	margins := hr
	if twoView {
		v[engine.MLossCCLR] = lr.ce / float64(lr.n)
		v[engine.MAccLR] = float64(lr.correct) / float64(lr.n)
		v[engine.MThetaLR] = lr.theta / float64(lr.n)
		setFinite(v, engine.MClusterLR, lr.cluster())
		margins = lr
	}
	mean := margins.margin / float64(margins.n)
	v[engine.MMargin] = mean
	variance := margins.margin2/float64(margins.n) - mean*mean
	if variance < 1e-12*math.Max(1, mean*mean) { // rounding, not spread
		variance = 0
	}
	v[engine.MMarginStd] = math.Sqrt(variance)
	return v
}

// setFinite records a metric only when it is defined (JSON has no NaN).
func setFinite(v map[string]float64, key string, x float64) {
	if finite(x) {
		v[key] = x
	}
}

// viewStats accumulates per-sample results of one view (LR or HR).
type viewStats struct {
	n, correct      int
	ce, theta       float64
	margin, margin2 float64
	emb             [][]float32
	labels          []int
}

func (s *viewStats) add(hd *nn.Head, lo, hi int, emb []float32, dim int) {
	for i := lo; i < hi; i++ {
		s.n++
		s.ce += hd.CE[i]
		if hd.Pred[i] == hd.Labels[i] {
			s.correct++
		}
		s.theta += math.Acos(math.Max(-1, math.Min(1, hd.CosY[i]))) * 180 / math.Pi
		g := hd.MarginOf(i)
		s.margin += g
		s.margin2 += g * g
		s.emb = append(s.emb, emb[i*dim:(i+1)*dim])
		s.labels = append(s.labels, hd.Labels[i])
	}
}

// cluster is the mean cosine between embeddings of different identities in
// the batch (embeddings are unit vectors).
func (s *viewStats) cluster() float64 {
	var sum float64
	n := 0
	for i := range s.emb {
		for j := i + 1; j < len(s.emb); j++ {
			if s.labels[i] == s.labels[j] {
				continue
			}
			var d float32
			for k, v := range s.emb[i] {
				d += v * s.emb[j][k]
			}
			sum += float64(d)
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// throughput is an exponential moving average of images per second.
type throughput struct{ ips float64 }

func (t *throughput) add(images int, d time.Duration) float64 {
	now := float64(images) / d.Seconds()
	if t.ips == 0 {
		t.ips = now
	} else {
		t.ips = 0.9*t.ips + 0.1*now
	}
	return t.ips
}
