package train

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
)

// Options connects an engine to the world outside it.
type Options struct {
	// Save stores a checkpoint durably and returns where; nil disables
	// checkpoints. It is called on the loop goroutine.
	Save func(step int64, blob []byte) (path string, err error)
}

type cmdKind int

const (
	cmdKnob cmdKind = iota
	cmdPause
	cmdResume
	cmdCheckpoint
	cmdEval
	cmdStop
)

type command struct {
	kind        cmdKind
	knob, value string
	by          string
}

// Engine trains one run. It implements engine.Trainer.
type Engine struct {
	opts     Options
	train    datasets.Source
	eval     *datasets.Set
	protocol Protocol

	// archs are the phases' backbones: the configured residual CNN, or an
	// imported ONNX teacher (model.teacher) and its student.
	archs archs

	// Owned by the loop goroutine.
	cfg      engine.Config
	st       *state
	paused   bool
	lastSave time.Time

	// Guarded by mu: what control calls validate against.
	mu       sync.Mutex
	shadow   engine.Config
	ended    bool
	stopping bool

	cmds chan command
	box  *outbox
}

// New prepares a run on the given data. It validates the configuration and
// initialises the teacher from the seed.
func New(cfg engine.Config, data Data, opts Options) (*Engine, error) {
	train, eval := data.Train, data.Eval
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if train == nil || train.Len() == 0 {
		return nil, errors.New("train: no training images")
	}
	givenProtocol := len(data.Protocol.Pairs) > 0 || len(data.Protocol.Probes) > 0
	if eval == nil || (eval.NumIDs() < 2 && !givenProtocol) {
		return nil, errors.New("train: evaluation needs at least 2 identities")
	}
	if set, ok := train.(*datasets.Set); (ok && set.Size != cfg.Data.HR) || eval.Size != cfg.Data.HR {
		return nil, fmt.Errorf("train: data is %d px but data.hr=%d", eval.Size, cfg.Data.HR)
	}
	for _, p := range []engine.PhaseConfig{cfg.Teacher, cfg.Student} {
		if p.Batch > train.Len() {
			return nil, fmt.Errorf("train: batch %d is larger than the %d training images; lower teacher.batch/student.batch", p.Batch, train.Len())
		}
	}
	teacher, err := loadTeacher(cfg)
	if err != nil {
		return nil, err
	}
	as := archsOf(cfg, teacher)
	st, err := newState(cfg, as.teacher, train.NumIDs())
	if err != nil {
		return nil, err
	}
	return &Engine{
		opts: opts, train: train, eval: eval, protocol: data.Protocol, archs: as,
		cfg: cfg.Clone(), shadow: cfg.Clone(), st: st,
		cmds: make(chan command, 256), box: newOutbox(),
	}, nil
}

// Restore continues from a checkpoint blob written by this engine: weights,
// optimizer, step, knob values in effect. Call it before Start.
func (e *Engine) Restore(blob []byte) error {
	st, cfg, err := decodeState(blob, e.train.NumIDs(), e.archs.teacher)
	if err != nil {
		return err
	}
	e.st, e.cfg, e.shadow = st, cfg.Clone(), cfg.Clone()
	return nil
}

// RestoreWith is Restore with the live knobs replaced by cfg's (a fork
// continues its parent's checkpoint with changed knobs). Knobs fixed at
// start must match the checkpoint's: they shape the model and the data.
func (e *Engine) RestoreWith(blob []byte, cfg engine.Config) error {
	if err := e.Restore(blob); err != nil {
		return err
	}
	fixed := cfg.Clone()
	fixed.Hyper = e.cfg.Hyper
	if got, want := engine.Values(&fixed), engine.Values(&e.cfg); !equalValues(got, want) {
		for name, v := range got {
			if want[name] != v {
				return fmt.Errorf("train: %s=%s differs from the checkpoint's %s; it is fixed at start: start a new session instead", name, v, want[name])
			}
		}
	}
	e.cfg.Hyper, e.shadow.Hyper = cfg.Hyper, cfg.Hyper
	return nil
}

func equalValues(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// StartFromTeacher makes this run a student run of the teacher trained in
// another session (blob is that run's checkpoint at or after its teacher
// phase): the teacher phase is skipped and the student phase starts from
// it. Knobs stay this run's. Call it before Start.
func (e *Engine) StartFromTeacher(blob []byte) error {
	st, cfg, err := decodeState(blob, e.train.NumIDs(), e.archs.teacher)
	if err != nil {
		return err
	}
	if phaseIndex(st.Phase) < phaseIndex(engine.PhaseStudent) && st.PhaseStep < e.phaseStepsOf(cfg, engine.PhaseTeacher) {
		return fmt.Errorf("train: the teacher checkpoint is from step %d, before its teacher phase ended", st.Step)
	}
	if cfg.Model.TeacherSHA256 != e.cfg.Model.TeacherSHA256 {
		return fmt.Errorf("train: the teacher session distils model.teacher=%q, this run %q", cfg.Model.Teacher, e.cfg.Model.Teacher)
	}
	if cfg.Model.Teacher == "" && arch(cfg) != arch(e.cfg) {
		return fmt.Errorf("train: the teacher was trained with model %+v, this run has %+v", arch(cfg), arch(e.cfg))
	}
	e.st.Teacher, e.st.Classifier = st.Teacher, st.Classifier
	e.st.AdaMean, e.st.AdaStd = st.AdaMean, st.AdaStd
	e.st.Phase, e.st.PhaseStep, e.st.Step = engine.PhaseStudent, 0, e.phaseSteps(engine.PhaseTeacher)
	return nil
}

// Start runs the engine until it finishes, is stopped or ctx ends. Events
// flow until the channel closes.
func (e *Engine) Start(ctx context.Context) {
	e.lastSave = time.Now()
	go e.box.run(ctx)
	go e.loop(ctx)
}

// Events implements engine.Trainer.
func (e *Engine) Events() <-chan []engine.Event { return e.box.out }

// Config implements engine.Trainer: the configuration with every accepted
// knob change applied, including those still queued.
func (e *Engine) Config() engine.Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.shadow.Clone()
}

func (e *Engine) enqueue(c command) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.enqueueLocked(c)
}

func (e *Engine) enqueueLocked(c command) error {
	if e.ended {
		return errors.New("the run has ended")
	}
	select {
	case e.cmds <- c:
		return nil
	default:
		return errors.New("engine is busy: too many queued requests, try again")
	}
}

// SetKnob implements engine.Trainer.
func (e *Engine) SetKnob(name, value, by string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	next, err := engine.SetLive(e.shadow, name, value)
	if err != nil {
		return err
	}
	if err := e.enqueueLocked(command{kind: cmdKnob, knob: name, value: value, by: by}); err != nil {
		return err
	}
	e.shadow = next
	return nil
}

// Pause implements engine.Trainer.
func (e *Engine) Pause(by string) error { return e.enqueue(command{kind: cmdPause, by: by}) }

// Resume implements engine.Trainer.
func (e *Engine) Resume(by string) error { return e.enqueue(command{kind: cmdResume, by: by}) }

// Checkpoint implements engine.Trainer.
func (e *Engine) Checkpoint(by string) error {
	if e.opts.Save == nil {
		return errors.New("checkpoints are not enabled for this run")
	}
	return e.enqueue(command{kind: cmdCheckpoint, by: by})
}

// Eval implements engine.Trainer.
func (e *Engine) Eval(by string) error { return e.enqueue(command{kind: cmdEval, by: by}) }

// Stop implements engine.Trainer.
func (e *Engine) Stop(by string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopping || e.ended {
		return
	}
	e.stopping = true
	// A full queue still stops: the loop also checks the flag.
	_ = e.enqueueLocked(command{kind: cmdStop, by: by})
}

func (e *Engine) stopRequested() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopping
}

// emit queues lifecycle events (delivered at once); point events use point.
func (e *Engine) emit(ev engine.Event) {
	e.stamp(&ev)
	e.box.add(true, ev)
}

func (e *Engine) point(values map[string]float64, curves map[string]engine.Curve) {
	ev := engine.Event{Kind: engine.KindPoint, Values: values, Curves: curves}
	e.stamp(&ev)
	e.box.add(false, ev)
}

func (e *Engine) stamp(ev *engine.Event) {
	ev.Step, ev.Phase, ev.Time = e.st.Step, e.st.Phase, time.Now().UTC()
	ev.Epoch = e.st.epoch
}

func (e *Engine) logf(format string, args ...any) {
	e.emit(engine.Event{Kind: engine.KindLog, Message: fmt.Sprintf(format, args...)})
}

// replicas returns how many graph replicas to split a batch of b over.
func replicas(cfgReplicas, b int) int {
	r := cfgReplicas
	if r <= 0 {
		r = runtime.GOMAXPROCS(0)
	}
	for r > 1 && b%r != 0 {
		r--
	}
	return max(r, 1)
}
