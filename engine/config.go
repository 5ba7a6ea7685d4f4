package engine

import (
	"fmt"
	"strings"

	"github.com/ccface/ccface/datasets"
)

// Phase names, in the order a run goes through them.
const (
	PhaseTeacher = "teacher"
	PhaseStudent = "student"
	PhaseDone    = "done"
)

// Config is the whole description of a run. Everything in Hyper may change
// while training runs; the rest is fixed when the run starts.
type Config struct {
	Seed     int64       `json:"seed"`
	Method   string      `json:"method"` // one of Methods
	Data     DataConfig  `json:"data"`
	Model    ModelConfig `json:"model"`
	Teacher  PhaseConfig `json:"teacher"`
	Student  PhaseConfig `json:"student"`
	Eval     EvalConfig  `json:"eval"`
	Replicas int         `json:"replicas"` // graph replicas a batch is split over (0 = one per core)
	Hyper    Hyper       `json:"hyper"`
}

// CheckpointConfig says when checkpoints are written and how many are kept.
// Checkpoints are also written at phase ends, on request and on clean exit.
type CheckpointConfig struct {
	EverySteps   int     `json:"every_steps"`   // 0 = no step-based checkpoints
	EveryMinutes float64 `json:"every_minutes"` // 0 = no time-based checkpoints
	Keep         int     `json:"keep"`          // newest checkpoints kept (plus the best by LR rank-1)
}

// DataConfig says where faces come from and how they are split.
type DataConfig struct {
	Source       string  `json:"source"`        // "synth" or an image-folder path
	HR           int     `json:"hr"`            // HR side in pixels
	TrainIDs     int     `json:"train_ids"`     // synthetic: training identities
	EvalIDs      int     `json:"eval_ids"`      // synthetic: evaluation identities (disjoint)
	PerID        int     `json:"per_id"`        // synthetic: images per identity
	EvalFraction float64 `json:"eval_fraction"` // folders: share of identities held out for evaluation
	// EvalSource, when set, is a separate evaluation set (folder, .rec,
	// .bin, pairs.txt or TinyFace root) used with its own protocol; the
	// whole of Source then trains.
	EvalSource string `json:"eval_source,omitempty"`
	// Grey feeds every image as grey (three equal channels); Crop selects
	// the face in each source frame (datasets.ParseCrop). Both apply to the
	// training and the evaluation sets alike.
	Grey bool   `json:"grey,omitempty"`
	Crop string `json:"crop,omitempty"`
	// Align, "scrfd", aligns folder and .rec sources on load (detect with
	// Detector, warp to the ArcFace template) through a cache of aligned
	// folders; "" or "off" uses the images as they are.
	Align    string `json:"align,omitempty"`
	Detector string `json:"detector,omitempty"` // SCRFD .onnx for Align
}

// ModelConfig shapes the residual CNN backbone, or names a pretrained
// teacher to start from.
type ModelConfig struct {
	Width int `json:"width"` // channels of the first stage; each of the 3 stages doubles it
	Depth int `json:"depth"` // residual blocks per stage
	Embed int `json:"embed"` // embedding size
	// Teacher, when set, is a pretrained ONNX recogniser used, frozen, as
	// the teacher: its phase trains only a classifier over the training
	// identities, started from their mean embeddings. TeacherSHA256 is the
	// file's hash, recorded so resume and fork use the same network.
	Teacher       string `json:"teacher,omitempty"`
	TeacherSHA256 string `json:"teacher_sha256,omitempty"`
	// Student is "copy" (the student starts as a copy of the teacher) or
	// "native" (a residual CNN of Width, Depth with the teacher's embedding
	// size, trained from scratch).
	Student string `json:"student,omitempty"`
	// Channels, Mean and Std are the imported teacher's input convention:
	// a pixel p in [0,255] enters as (p − Mean)/Std, in RGB or BGR order.
	Channels string  `json:"channels,omitempty"`
	Mean     float64 `json:"mean,omitempty"`
	Std      float64 `json:"std,omitempty"`
}

// PhaseConfig holds the fixed settings of one training phase.
type PhaseConfig struct {
	Epochs       int     `json:"epochs"`
	Batch        int     `json:"batch"`
	MarginWarmup float64 `json:"margin_warmup"` // epochs at m=0 before the ramp
	MarginRamp   float64 `json:"margin_ramp"`   // epochs of linear ramp from 0 to m
	LRWarmup     float64 `json:"lr_warmup"`     // epochs of linear learning-rate warm-up
}

// EvalConfig sets the evaluation protocols.
type EvalConfig struct {
	LRSizes      []int   `json:"lr_sizes"`       // LR sides of the sweep, in pixels
	Folds        int     `json:"folds"`          // verification folds
	Pairs        int     `json:"pairs"`          // verification pairs (half same, half different)
	GalleryPerID int     `json:"gallery_per_id"` // identification: gallery images per mated identity
	Distractors  float64 `json:"distractors"`    // identification: share of eval identities used only as gallery distractors
	FlipTTA      bool    `json:"flip_tta"`       // sum each embedding with its flipped image's
}

// Hyper holds the live knobs: validated synchronously, applied by the engine
// at the next step boundary, and recorded as an event with its step.
type Hyper struct {
	LRTeacher   float64 `json:"lr_teacher"`
	LRStudent   float64 `json:"lr_student"`
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	LRSchedule  string  `json:"lr_schedule"` // "cosine" or "step"

	Head   string  `json:"head"`   // teacher head: "arcface", "cosface" or "adaface"
	Margin float64 `json:"margin"` // m: target margin (radians for ArcFace, cosine for CosFace)
	Scale  float64 `json:"scale"`  // s: logit scale
	H      float64 `json:"h"`      // AdaFace concentration h

	Policy string  `json:"policy"` // per-sample margin policy of the student's LR views (Policies)
	Gamma  float64 `json:"gamma"`  // γ of the adaptive policies
	// MarginMin is the agreement policy's floor: the margin of a sample
	// that does not agree with its teacher at all.
	MarginMin float64 `json:"m_min"`
	// AgreeMomentum is the momentum of the running mean of the LR-HR
	// agreement that the agreement policy measures each sample against.
	AgreeMomentum float64 `json:"agree_momentum"`
	Alpha         float64 `json:"alpha"`  // weight of the HR consistency term
	Lambda        float64 `json:"lambda"` // weight of L_ACR
	// ACRScale is s_A, the logit scale of L_ACR's softmaxes (target and
	// prediction), apart from the margin head's s.
	ACRScale float64 `json:"acr_scale"`
	Temp     float64 `json:"temp"` // T: sharpening temperature of L_ACR's target (1 = none)
	Eps      float64 `json:"eps"`  // ε: mean-entropy weight of L_ACR
	ACR      string  `json:"acr"`  // asymmetric cross-resolution learning: one of ACRModes
	// ACRTarget says whose HR embedding makes the cross-resolution target
	// (under stop-gradient): "teacher" or "student".
	ACRTarget string `json:"acr_target"`

	Aug datasets.DegradeParams `json:"aug"`

	Checkpoint CheckpointConfig `json:"checkpoint"`
}

// Methods are the training methods of the student phase (METHOD.md).
var Methods = []string{"ccface", "ccface-noadapt", "ccface-noacr", "proxyless", "arcface-aug", "feature-kd", "teacher"}

// Policies are the per-sample margin policies of the student's LR views.
var Policies = []string{"fixed", "agreement", "resolution", "quality"}

// ACRModes are the modes of asymmetric cross-resolution learning.
var ACRModes = []string{"off", "prototype", "support", "simsiam"}

// ApplyMethod sets the method and the knobs that define it: the margin
// policy and the cross-resolution mode. Later knob settings override them
// (e.g. `--set method=ccface --set policy=resolution`).
func ApplyMethod(c *Config, method string) {
	c.Method = method
	h := &c.Hyper
	switch method {
	case "ccface":
		h.Policy, h.ACR = "agreement", "prototype"
	case "ccface-noadapt":
		h.Policy, h.ACR = "fixed", "prototype"
	case "ccface-noacr":
		h.Policy, h.ACR = "agreement", "off"
	case "feature-kd":
		h.Policy, h.ACR = "fixed", "simsiam" // the feature term: cosine to z_T(x_HR), no predictor
	default: // proxyless, arcface-aug, teacher
		h.Policy, h.ACR = "fixed", "off"
	}
}

// StudentOwnsClassifier says whether a method trains its own classifier
// (initialised from the teacher's) instead of the teacher's frozen one.
func StudentOwnsClassifier(method string) bool {
	return method == "arcface-aug" || method == "feature-kd"
}

// Default is the "default" preset.
func Default() Config {
	return Preset("default")
}

// Presets names the presets Preset knows.
var Presets = []string{"tiny", "default", "real"}

// Preset returns a named preset (see Presets); any other name gives the
// default one. ParsePreset refuses unknown names.
func Preset(name string) Config {
	c := Config{
		Seed:    1,
		Method:  "proxyless",
		Data:    DataConfig{Source: "synth", HR: 32, TrainIDs: 300, EvalIDs: 100, PerID: 24, EvalFraction: 0.25},
		Model:   ModelConfig{Width: 8, Depth: 1, Embed: 128, Student: "copy", Channels: "rgb", Mean: 127.5, Std: 128},
		Teacher: PhaseConfig{Epochs: 12, Batch: 64, MarginWarmup: 2, MarginRamp: 3, LRWarmup: 1},
		Student: PhaseConfig{Epochs: 3, Batch: 64, MarginWarmup: 0, MarginRamp: 0, LRWarmup: 0.5},
		Eval: EvalConfig{LRSizes: []int{8, 12, 16}, Folds: 10, Pairs: 3000, GalleryPerID: 1,
			Distractors: 0.2, FlipTTA: false},
		Hyper: Hyper{
			LRTeacher: 0.1, LRStudent: 0.01, Momentum: 0.9, WeightDecay: 5e-4, LRSchedule: "cosine",
			Head: "arcface", Margin: 0.4, Scale: 32, H: 0.333,
			// α = 0.5 is METHOD.md's. The cross-resolution target keeps the
			// teacher's soft probabilities at its own scale (s_A = s, T = 1):
			// sharper targets are nearly the one-hot label and repeat L_CC.
			Policy: "fixed", Gamma: 1, MarginMin: 0.1, AgreeMomentum: 0.01, Alpha: 0.5,
			Lambda: 1, ACRScale: 32, Temp: 1, Eps: 1, ACR: "off", ACRTarget: "teacher",
			Aug:        datasets.DefaultDegrade(),
			Checkpoint: CheckpointConfig{EverySteps: 500, EveryMinutes: 5, Keep: 3},
		},
	}
	ApplyMethod(&c, "ccface")
	if name == "real" {
		// Small real sets (a few thousand crops): a wider net, and METHOD.md's
		// recipe of 10 epochs at m=0 then a 10-epoch ramp.
		c.Model.Width = 16
		c.Teacher = PhaseConfig{Epochs: 40, Batch: 64, MarginWarmup: 10, MarginRamp: 10, LRWarmup: 1}
		c.Student = PhaseConfig{Epochs: 10, Batch: 64, LRWarmup: 0.5}
	}
	if name == "tiny" {
		c.Data.TrainIDs, c.Data.EvalIDs, c.Data.PerID = 60, 30, 16
		c.Model.Width, c.Model.Depth, c.Model.Embed = 8, 1, 64
		c.Teacher = PhaseConfig{Epochs: 12, Batch: 32, MarginWarmup: 2, MarginRamp: 3, LRWarmup: 0.5}
		c.Student = PhaseConfig{Epochs: 4, Batch: 32, LRWarmup: 0.25}
		c.Eval.Pairs = 600
	}
	return c
}

// ParsePreset returns the named preset or an error listing the known ones.
func ParsePreset(name string) (Config, error) {
	for _, p := range Presets {
		if p == name {
			return Preset(name), nil
		}
	}
	return Config{}, fmt.Errorf("unknown preset %q: use one of %s", name, strings.Join(Presets, ", "))
}

// Validate checks every knob and names the first bad one with its allowed range.
func (c Config) Validate() error {
	for _, k := range Knobs {
		if k.Check != nil {
			if err := k.Check(&c); err != nil {
				return err
			}
		}
	}
	return c.Hyper.Aug.Validate()
}

// FillNewKnobs gives knobs added after a configuration was recorded (a
// checkpoint's, a session manifest's), which decode as zero, their nearest
// meaning for that run: the cross-resolution softmaxes at the head's scale
// (the prediction's scale before acr_scale existed), the default agreement
// momentum, and the input convention of ONNX teachers. (m_min = 0, no
// floor, is the old meaning already.)
func (c *Config) FillNewKnobs() {
	d := Default()
	if m := &c.Model; m.Student == "" {
		m.Student, m.Channels, m.Mean, m.Std = d.Model.Student, d.Model.Channels, d.Model.Mean, d.Model.Std
	}
	h := &c.Hyper
	if h.ACRScale == 0 {
		h.ACRScale = h.Scale
	}
	if h.AgreeMomentum == 0 {
		h.AgreeMomentum = d.Hyper.AgreeMomentum
	}
}

// Clone returns a deep copy (slices included) so callers can edit it freely.
func (c Config) Clone() Config {
	c.Eval.LRSizes = append([]int(nil), c.Eval.LRSizes...)
	return c
}

// PhaseConfig returns the fixed settings of the named phase.
func (c Config) Phase(name string) PhaseConfig {
	if name == PhaseStudent {
		return c.Student
	}
	return c.Teacher
}

// PhaseLR returns the live base learning rate of the named phase.
func (h Hyper) PhaseLR(phase string) float64 {
	if phase == PhaseStudent {
		return h.LRStudent
	}
	return h.LRTeacher
}
