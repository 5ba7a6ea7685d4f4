package train

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math/rand"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/nn"
)

// stateVersion changes whenever the checkpoint layout does.
const stateVersion = 1

// state is everything a run needs to continue exactly: it is what a
// checkpoint holds. Data order and augmentation follow from (seed, epoch,
// index), so the data cursor is PhaseStep.
type state struct {
	Phase      string
	PhaseStep  int64 // steps done in the current phase
	Step       int64 // steps done in the whole run
	Teacher    nn.Params
	Classifier *nn.Param
	Student    nn.Params // nil until the student phase starts
	// StudentClassifier is the student's own classifier (copied from the
	// teacher's) for the methods that train one; nil when W_T stays frozen.
	StudentClassifier *nn.Param
	Predictor         nn.Params // the LR-branch predictor of cross-resolution learning
	Opt               nn.SGD    // of the current phase
	AdaMean, AdaStd   float64   // AdaFace's running feature-norm statistics (teacher)
	// StudentAdaMean and StudentAdaStd are the same for the student's LR
	// views (the `quality` margin policy).
	StudentAdaMean, StudentAdaStd float64
	// AgreeMean is the running mean cosine of the student's LR embeddings
	// to the teacher's HR ones (the `agreement` policy's reference).
	AgreeMean float64
	History   []engine.Event // knob changes applied so far

	epoch float64 // fractional epoch, for event stamps
}

func arch(cfg engine.Config) nn.Arch {
	return nn.Arch{HR: cfg.Data.HR, Width: cfg.Model.Width, Depth: cfg.Model.Depth, Embed: cfg.Model.Embed}
}

func newState(cfg engine.Config, teacher nn.Arch, classes int) (*state, error) {
	rng := rand.New(rand.NewSource(cfg.Seed))
	bb, err := nn.NewBackbone(teacher, rng)
	if err != nil {
		return nil, err
	}
	return &state{
		Phase: engine.PhaseTeacher, Teacher: bb,
		Classifier: nn.NewClassifier(classes, cfg.Model.Embed, rng),
		// AdaFace's norm statistics start unset (zero) and are taken from
		// the first batch: its fixed start (20, 100) suits its own networks'
		// norms, not ours.
	}, nil
}

// checkpoint is the serialised form of state plus the knobs in effect.
type checkpoint struct {
	Version int
	Config  engine.Config
	State   state
}

func encodeState(st *state, cfg engine.Config) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(checkpoint{Version: stateVersion, Config: cfg, State: *st}); err != nil {
		return nil, fmt.Errorf("train: encode checkpoint: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeCheckpoint reads a checkpoint blob of this layout version.
func decodeCheckpoint(blob []byte) (checkpoint, error) {
	var ck checkpoint
	if err := gob.NewDecoder(bytes.NewReader(blob)).Decode(&ck); err != nil {
		return ck, fmt.Errorf("train: decode checkpoint: %w", err)
	}
	if ck.Version != stateVersion {
		return ck, fmt.Errorf("train: checkpoint layout version %d, this ccface reads version %d", ck.Version, stateVersion)
	}
	return ck, nil
}

func decodeState(blob []byte, classes int, teacher nn.Arch) (*state, engine.Config, error) {
	ck, err := decodeCheckpoint(blob)
	if err != nil {
		return nil, engine.Config{}, err
	}
	if ck.State.Classifier == nil || ck.State.Classifier.Shape[0] != classes {
		return nil, engine.Config{}, fmt.Errorf("train: checkpoint classifier does not match the %d training identities of this data", classes)
	}
	if ck.Config.Model.TeacherSHA256 != "" && teacher.Imported == nil {
		return nil, engine.Config{}, fmt.Errorf("train: the checkpoint distils the ONNX teacher %s: run with model.teacher set to it", ck.Config.Model.Teacher)
	}
	if teacher.Imported == nil {
		teacher = arch(ck.Config)
	}
	want, err := nn.NewBackbone(teacher, rand.New(rand.NewSource(0)))
	if err != nil {
		return nil, engine.Config{}, err
	}
	if err := want.CopyFrom(ck.State.Teacher); err != nil {
		return nil, engine.Config{}, fmt.Errorf("train: checkpoint teacher: %w", err)
	}
	st := ck.State
	ck.Config.FillNewKnobs()
	return &st, ck.Config, nil
}

// newRand returns a generator for one purpose of a run's seed.
func newRand(seed int64, purpose int64) *rand.Rand {
	return rand.New(rand.NewSource(seed*1000003 + purpose))
}

// CheckpointWeights decodes the parameters held in a checkpoint blob, by
// name ("teacher/stem.w", "student/...", "classifier", ...), for tools that
// compare runs.
func CheckpointWeights(blob []byte) (map[string][]float32, int64, error) {
	ck, err := decodeCheckpoint(blob)
	if err != nil {
		return nil, 0, err
	}
	out := map[string][]float32{}
	add := func(prefix string, ps nn.Params) {
		for _, p := range ps {
			out[prefix+p.Name] = p.Data
		}
	}
	add("teacher/", ck.State.Teacher)
	add("student/", ck.State.Student)
	add("predictor/", ck.State.Predictor)
	if ck.State.Classifier != nil {
		out["classifier"] = ck.State.Classifier.Data
	}
	if ck.State.StudentClassifier != nil {
		out["student/classifier"] = ck.State.StudentClassifier.Data
	}
	return out, ck.State.Step, nil
}

// CheckpointEmbedder returns a model of a checkpoint as an Embedder, with
// the configuration in effect: which is engine.PhaseTeacher,
// engine.PhaseStudent or "" (the student once its phase has started, else
// the teacher); the name returned says which it is. A run with an ONNX
// teacher needs that file (checked by its sha256).
func CheckpointEmbedder(blob []byte, which string) (Embedder, string, engine.Config, error) {
	ck, err := decodeCheckpoint(blob)
	if err != nil {
		return nil, "", engine.Config{}, err
	}
	m, err := loadTeacher(ck.Config)
	if err != nil {
		return nil, "", engine.Config{}, err
	}
	as := archsOf(ck.Config, m)
	if which == "" {
		which = engine.PhaseTeacher
		if ck.State.Student != nil {
			which = engine.PhaseStudent
		}
	}
	switch which {
	case engine.PhaseTeacher:
		return Backbone{ck.State.Teacher, as.teacher}, which, ck.Config, nil
	case engine.PhaseStudent:
		if ck.State.Student == nil {
			return nil, "", engine.Config{}, fmt.Errorf("the checkpoint at step %d is from before the student phase: it has no student yet", ck.State.Step)
		}
		return Backbone{ck.State.Student, as.student}, which, ck.Config, nil
	}
	return nil, "", engine.Config{}, fmt.Errorf("model %q: want teacher or student", which)
}
