package engine

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ccface/ccface/datasets"
)

// Knob is one named setting of Config, as typed by users in `--set key=value`
// and edited in the TUI. Live knobs may change while training runs.
type Knob struct {
	Name    string
	Help    string
	Group   string   // "train", "margin", "method", "aug", "data", "model", "eval"
	Live    bool     // may change between steps
	Options []string // allowed values of an enumerated knob
	Min     float64  // numeric range, inclusive
	Max     float64
	Step    float64 // increment for arrow keys
	Get     func(c *Config) string
	Set     func(c *Config, v string) error
	Check   func(c *Config) error
}

// The values of data.align.
const (
	AlignOff   = "off"
	AlignSCRFD = "scrfd"
)

// AlignModes lists data.align's values.
var AlignModes = []string{AlignOff, AlignSCRFD}

// Knobs lists every knob in display order.
var Knobs = buildKnobs()

// FindKnob returns the knob with the given name, or an error listing near names.
func FindKnob(name string) (*Knob, error) {
	for i := range Knobs {
		if Knobs[i].Name == name {
			return &Knobs[i], nil
		}
	}
	var near []string
	for _, k := range Knobs {
		if strings.Contains(k.Name, name) || strings.Contains(name, k.Name) {
			near = append(near, k.Name)
		}
	}
	msg := fmt.Sprintf("unknown knob %q", name)
	if len(near) > 0 {
		return nil, fmt.Errorf("%s: did you mean %s? (`ccface knobs` lists all)", msg, strings.Join(near, ", "))
	}
	return nil, fmt.Errorf("%s: `ccface knobs` lists all", msg)
}

// StudentOnly reports whether the knob acts on the student phase alone,
// so a teacher-only run is the same whatever its value.
func (k Knob) StudentOnly() bool {
	return k.Group == "method" || strings.HasPrefix(k.Name, "student.") || k.Name == "lr_student" || k.Name == "model.student"
}

// TeacherRun returns c with every student-only knob at ref's value: the
// configuration that defines c's teacher, so runs whose students differ
// can share one teacher.
func TeacherRun(c, ref Config) (Config, error) {
	out := c.Clone()
	for _, k := range Knobs {
		if k.StudentOnly() {
			if err := k.Set(&out, k.Get(&ref)); err != nil {
				return out, fmt.Errorf("%s %s for the teacher run: %w", k.Name, k.Get(&ref), err)
			}
		}
	}
	return out, nil
}

// LiveKnobs returns the knobs that may change while training runs.
func LiveKnobs() []Knob {
	var out []Knob
	for _, k := range Knobs {
		if k.Live {
			out = append(out, k)
		}
	}
	return out
}

// ApplySet parses "key=value" assignments onto c and validates the result.
// c is left unchanged when any assignment fails.
func ApplySet(c *Config, assignments []string) error {
	next := c.Clone()
	for _, a := range assignments {
		key, val, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("--set %q: want key=value, e.g. --set margin=0.3", a)
		}
		k, err := FindKnob(strings.TrimSpace(key))
		if err != nil {
			return err
		}
		if err := k.Set(&next, strings.TrimSpace(val)); err != nil {
			return err
		}
	}
	if err := next.Validate(); err != nil {
		return err
	}
	*c = next
	return nil
}

// SetLive applies one live knob change to a copy of c and validates it.
func SetLive(c Config, name, value string) (Config, error) {
	k, err := FindKnob(name)
	if err != nil {
		return c, err
	}
	if !k.Live {
		return c, fmt.Errorf("knob %s is fixed once training starts: set it with --set at start or fork the session", name)
	}
	next := c.Clone()
	if err := k.Set(&next, value); err != nil {
		return c, err
	}
	if err := next.Validate(); err != nil {
		return c, err
	}
	return next, nil
}

// Values returns every knob's current value by name, for manifests and events.
func Values(c *Config) map[string]string {
	out := make(map[string]string, len(Knobs))
	for _, k := range Knobs {
		out[k.Name] = k.Get(c)
	}
	return out
}

// DescribeKnobs renders the knob table for `ccface knobs` and the README.
func DescribeKnobs(c *Config) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	// One header per group, in order of first appearance: the catalogue
	// lists a group's knobs in more than one place (train: rates, then
	// checkpoints).
	var groups []string
	byGroup := map[string][]Knob{}
	for _, k := range Knobs {
		if _, seen := byGroup[k.Group]; !seen {
			groups = append(groups, k.Group)
		}
		byGroup[k.Group] = append(byGroup[k.Group], k)
	}
	var ordered []Knob
	for _, g := range groups {
		ordered = append(ordered, byGroup[g]...)
	}
	group := ""
	for _, k := range ordered {
		if k.Group != group {
			group = k.Group
			fmt.Fprintf(tw, "[%s]\n", group)
		}
		live := ""
		if k.Live {
			live = "live"
		}
		rng := ""
		if len(k.Options) > 0 {
			rng = " (" + strings.Join(k.Options, "|") + ")"
		} else if k.Max > k.Min {
			rng = " (" + k.Format(k.Min) + ".." + k.Format(k.Max) + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s%s\n", k.Name, live, k.Get(c), k.Help, rng)
	}
	tw.Flush()
	return b.String()
}

func floatKnob(group, name, help string, live bool, min, max, step float64, field func(*Config) *float64) Knob {
	k := Knob{
		Name: name, Help: help, Group: group, Live: live, Min: min, Max: max, Step: step,
		Set: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("%s=%q: not a number (range %g..%g)", name, v, min, max)
			}
			*field(c) = f
			return nil
		},
		Check: func(c *Config) error {
			if f := *field(c); f < min || f > max {
				return fmt.Errorf("%s=%g: out of range, must be in %g..%g", name, f, min, max)
			}
			return nil
		},
	}
	k.Get = func(c *Config) string { return k.Format(*field(c)) }
	return k
}

func intKnob(group, name, help string, live bool, min, max int, field func(*Config) *int) Knob {
	return Knob{
		Name: name, Help: help, Group: group, Live: live, Min: float64(min), Max: float64(max), Step: 1,
		Get: func(c *Config) string { return strconv.Itoa(*field(c)) },
		Set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s=%q: not a whole number (range %d..%d)", name, v, min, max)
			}
			*field(c) = n
			return nil
		},
		Check: func(c *Config) error {
			if n := *field(c); n < min || n > max {
				return fmt.Errorf("%s=%d: out of range, must be in %d..%d", name, n, min, max)
			}
			return nil
		},
	}
}

func enumKnob(group, name, help string, live bool, options []string, field func(*Config) *string) Knob {
	return Knob{
		Name: name, Help: help, Group: group, Live: live, Options: options,
		Get: func(c *Config) string { return *field(c) },
		Set: func(c *Config, v string) error { *field(c) = v; return nil },
		Check: func(c *Config) error {
			for _, o := range options {
				if *field(c) == o {
					return nil
				}
			}
			return fmt.Errorf("%s=%q: must be one of %s", name, *field(c), strings.Join(options, ", "))
		},
	}
}

func boolKnob(group, name, help string, field func(*Config) *bool) Knob {
	return Knob{
		Name: name, Help: help, Group: group, Options: []string{"true", "false"},
		Get: func(c *Config) string { return strconv.FormatBool(*field(c)) },
		Set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s=%q: must be true or false", name, v)
			}
			*field(c) = b
			return nil
		},
	}
}

func buildKnobs() []Knob {
	h := func(c *Config) *Hyper { return &c.Hyper }
	aug := func(c *Config) *datasets.DegradeParams { return &c.Hyper.Aug }
	ks := []Knob{
		// Live optimisation knobs.
		floatKnob("train", "lr_teacher", "base learning rate of the teacher phase", true, 1e-5, 2, 0.01, func(c *Config) *float64 { return &h(c).LRTeacher }),
		floatKnob("train", "lr_student", "base learning rate of the student phase", true, 1e-5, 2, 0.005, func(c *Config) *float64 { return &h(c).LRStudent }),
		floatKnob("train", "momentum", "SGD momentum", true, 0, 0.999, 0.01, func(c *Config) *float64 { return &h(c).Momentum }),
		floatKnob("train", "weight_decay", "SGD weight decay", true, 0, 0.1, 1e-4, func(c *Config) *float64 { return &h(c).WeightDecay }),
		enumKnob("train", "lr_schedule", "learning-rate schedule within a phase", true, []string{"cosine", "step"}, func(c *Config) *string { return &h(c).LRSchedule }),
		// Margin head.
		enumKnob("margin", "head", "margin softmax of the teacher", true, []string{"arcface", "cosface", "adaface"}, func(c *Config) *string { return &h(c).Head }),
		floatKnob("margin", "margin", "m: target angular margin (ArcFace radians, CosFace cosine)", true, 0, 1.5, 0.05, func(c *Config) *float64 { return &h(c).Margin }),
		floatKnob("margin", "scale", "s: logit scale", true, 1, 128, 2, func(c *Config) *float64 { return &h(c).Scale }),
		floatKnob("margin", "h", "AdaFace norm concentration h", true, 0, 2, 0.05, func(c *Config) *float64 { return &h(c).H }),
		// Method knobs.
		enumKnob("method", "policy", "per-sample margin policy of the student's LR views", true, Policies, func(c *Config) *string { return &h(c).Policy }),
		floatKnob("method", "gamma", "γ: exponent of the adaptive margin", true, 0, 8, 0.25, func(c *Config) *float64 { return &h(c).Gamma }),
		floatKnob("method", "m_min", "agreement policy: margin of a sample that does not agree with its teacher (floor)", true, 0, 1.5, 0.05, func(c *Config) *float64 { return &h(c).MarginMin }),
		floatKnob("method", "agree_momentum", "agreement policy: momentum of the running mean agreement", true, 0.001, 1, 0.01, func(c *Config) *float64 { return &h(c).AgreeMomentum }),
		floatKnob("method", "alpha", "α: weight of the HR consistency term", true, 0, 4, 0.1, func(c *Config) *float64 { return &h(c).Alpha }),
		floatKnob("method", "lambda", "λ: weight of the cross-resolution term", true, 0, 10, 0.1, func(c *Config) *float64 { return &h(c).Lambda }),
		floatKnob("method", "acr_scale", "s_A: logit scale of the cross-resolution softmaxes (target and prediction)", true, 1, 128, 2, func(c *Config) *float64 { return &h(c).ACRScale }),
		floatKnob("method", "temp", "T: sharpening temperature of the cross-resolution target (1 = none)", true, 0.01, 2, 0.05, func(c *Config) *float64 { return &h(c).Temp }),
		floatKnob("method", "eps", "ε: weight of the mean-entropy term", true, 0, 10, 0.1, func(c *Config) *float64 { return &h(c).Eps }),
		enumKnob("method", "acr", "asymmetric cross-resolution learning", true, ACRModes, func(c *Config) *string { return &h(c).ACR }),
		enumKnob("method", "acr_target", "whose HR embedding makes the cross-resolution target", true, []string{"teacher", "student"}, func(c *Config) *string { return &h(c).ACRTarget }),
		// Augmentation (range checks live in DegradeParams.Validate).
		floatKnob("aug", "aug.p_lr", "probability of the LR degradation (mixed views)", true, 0, 1, 0.05, func(c *Config) *float64 { return &aug(c).PLR }),
		floatKnob("aug", "aug.r_min", "smallest LR/HR side ratio", true, 0.05, 1, 0.025, func(c *Config) *float64 { return &aug(c).RMin }),
		floatKnob("aug", "aug.r_max", "largest LR/HR side ratio", true, 0.05, 1, 0.025, func(c *Config) *float64 { return &aug(c).RMax }),
		enumKnob("aug", "aug.kernel", "downsampling kernel", true, append([]string{"random"}, datasets.Kernels...), func(c *Config) *string { return &aug(c).Kernel }),
		floatKnob("aug", "aug.blur_max", "largest blur sigma (LR px)", true, 0, 5, 0.1, func(c *Config) *float64 { return &aug(c).BlurMax }),
		floatKnob("aug", "aug.noise_max", "largest noise std (0..1 intensity)", true, 0, 0.5, 0.01, func(c *Config) *float64 { return &aug(c).NoiseMax }),
		intKnob("aug", "aug.jpeg_min", "lowest JPEG quality (100 = off)", true, 1, 100, func(c *Config) *int { return &aug(c).JPEGMin }),
		floatKnob("aug", "aug.flip", "horizontal flip probability", true, 0, 1, 0.1, func(c *Config) *float64 { return &aug(c).Flip }),
		floatKnob("aug", "aug.jitter", "brightness/contrast jitter", true, 0, 1, 0.05, func(c *Config) *float64 { return &aug(c).Jitter }),
		intKnob("aug", "aug.crop_pad", "crop-and-pad shift (HR px)", true, 0, 8, func(c *Config) *int { return &aug(c).CropPad }),
		// Checkpoints.
		intKnob("train", "ckpt.every_steps", "checkpoint every N steps (0 = off)", true, 0, 1000000, func(c *Config) *int { return &h(c).Checkpoint.EverySteps }),
		floatKnob("train", "ckpt.every_minutes", "checkpoint every M minutes (0 = off)", true, 0, 10000, 1, func(c *Config) *float64 { return &h(c).Checkpoint.EveryMinutes }),
		intKnob("train", "ckpt.keep", "newest checkpoints kept, plus the best by LR rank-1", true, 1, 1000, func(c *Config) *int { return &h(c).Checkpoint.Keep }),
		// Fixed at start.
		{
			Name: "seed", Help: "seed of data, initialisation and augmentation", Group: "train",
			Get: func(c *Config) string { return strconv.FormatInt(c.Seed, 10) },
			Set: func(c *Config, v string) error {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return fmt.Errorf("seed=%q: not a whole number", v)
				}
				c.Seed = n
				return nil
			},
		},
		func() Knob {
			k := enumKnob("train", "method", "training method of the student (sets policy and acr)", false, Methods, func(c *Config) *string { return &c.Method })
			k.Set = func(c *Config, v string) error {
				ApplyMethod(c, v)
				return nil
			}
			return k
		}(),
		intKnob("train", "replicas", "graph replicas a batch is split over (0 = one per core)", false, 0, 64, func(c *Config) *int { return &c.Replicas }),
		intKnob("train", "teacher.epochs", "teacher epochs", false, 0, 1000, func(c *Config) *int { return &c.Teacher.Epochs }),
		intKnob("train", "teacher.batch", "teacher batch size", false, 2, 1024, func(c *Config) *int { return &c.Teacher.Batch }),
		floatKnob("train", "teacher.margin_warmup", "teacher epochs at m=0", false, 0, 1000, 1, func(c *Config) *float64 { return &c.Teacher.MarginWarmup }),
		floatKnob("train", "teacher.margin_ramp", "teacher epochs of margin ramp", false, 0, 1000, 1, func(c *Config) *float64 { return &c.Teacher.MarginRamp }),
		floatKnob("train", "teacher.lr_warmup", "teacher epochs of LR warm-up", false, 0, 1000, 1, func(c *Config) *float64 { return &c.Teacher.LRWarmup }),
		intKnob("train", "student.epochs", "student epochs", false, 0, 1000, func(c *Config) *int { return &c.Student.Epochs }),
		intKnob("train", "student.batch", "student batch size", false, 2, 1024, func(c *Config) *int { return &c.Student.Batch }),
		floatKnob("train", "student.margin_warmup", "student epochs at m=0", false, 0, 1000, 1, func(c *Config) *float64 { return &c.Student.MarginWarmup }),
		floatKnob("train", "student.margin_ramp", "student epochs of margin ramp", false, 0, 1000, 1, func(c *Config) *float64 { return &c.Student.MarginRamp }),
		floatKnob("train", "student.lr_warmup", "student epochs of LR warm-up", false, 0, 1000, 1, func(c *Config) *float64 { return &c.Student.LRWarmup }),
		func() Knob {
			k := intKnob("data", "data.hr", "HR side in pixels (a multiple of 8)", false, 8, 256, func(c *Config) *int { return &c.Data.HR })
			inRange := k.Check
			k.Check = func(c *Config) error {
				if err := inRange(c); err != nil {
					return err
				}
				if c.Data.HR%8 != 0 {
					return fmt.Errorf("data.hr=%d: must be a multiple of 8 (three 2x2 poolings)", c.Data.HR)
				}
				return nil
			}
			return k
		}(),
		intKnob("data", "data.train_ids", "synthetic training identities", false, 2, 100000, func(c *Config) *int { return &c.Data.TrainIDs }),
		intKnob("data", "data.eval_ids", "synthetic evaluation identities", false, 4, 100000, func(c *Config) *int { return &c.Data.EvalIDs }),
		intKnob("data", "data.per_id", "synthetic images per identity", false, 2, 10000, func(c *Config) *int { return &c.Data.PerID }),
		{
			Name: "data.eval", Help: "separate evaluation set (folder, .rec, .bin, pairs.txt, TinyFace); empty = held-out identities", Group: "data",
			Get: func(c *Config) string { return c.Data.EvalSource },
			Set: func(c *Config, v string) error { c.Data.EvalSource = v; return nil },
		},
		boolKnob("data", "data.grey", "feed every training and evaluation image as grey (three equal channels)", func(c *Config) *bool { return &c.Data.Grey }),
		{
			Name: "data.crop", Help: "face box in each source frame: none, centre:N (px), centre:P% or box:X,Y,W,H", Group: "data",
			Get: func(c *Config) string { return c.Data.Crop },
			Set: func(c *Config, v string) error {
				crop, err := datasets.ParseCrop(v)
				if err != nil {
					return err
				}
				if c.Data.Crop = crop.String(); c.Data.Crop == "none" {
					c.Data.Crop = ""
				}
				return nil
			},
		},
		{
			Name: "data.align", Help: "align faces on load with an SCRFD detector (data.detector), cached; folders and .rec", Group: "data",
			Options: AlignModes,
			Get: func(c *Config) string {
				if c.Data.Align == "" {
					return AlignOff
				}
				return c.Data.Align
			},
			Set: func(c *Config, v string) error { c.Data.Align = v; return nil },
			Check: func(c *Config) error {
				switch c.Data.Align {
				case "", AlignOff:
					return nil
				case AlignSCRFD:
					if c.Data.Detector == "" {
						return fmt.Errorf("data.align=scrfd needs the detector: --set data.detector=PATH/scrfd_2.5g_bnkps.onnx (insightface's SCRFD with keypoints)")
					}
					return nil
				}
				return fmt.Errorf("data.align=%q: must be one of %s", c.Data.Align, strings.Join(AlignModes, ", "))
			},
		},
		{
			Name: "data.detector", Help: "SCRFD face detector .onnx that data.align=scrfd runs", Group: "data",
			Get: func(c *Config) string { return c.Data.Detector },
			Set: func(c *Config, v string) error { c.Data.Detector = v; return nil },
		},
		floatKnob("data", "data.eval_fraction", "image folders: share of identities held out", false, 0.05, 0.95, 0.05, func(c *Config) *float64 { return &c.Data.EvalFraction }),
		intKnob("model", "model.width", "channels of the first stage", false, 2, 256, func(c *Config) *int { return &c.Model.Width }),
		intKnob("model", "model.depth", "residual blocks per stage", false, 1, 8, func(c *Config) *int { return &c.Model.Depth }),
		intKnob("model", "model.embed", "embedding size", false, 2, 2048, func(c *Config) *int { return &c.Model.Embed }),
		{
			Name: "model.teacher", Help: "a pretrained ONNX recogniser to distil (frozen teacher); empty = train a teacher", Group: "model",
			Get: func(c *Config) string { return c.Model.Teacher },
			Set: func(c *Config, v string) error { c.Model.Teacher = v; return nil },
		},
		enumKnob("model", "model.student", "with an ONNX teacher: copy (fine-tune a copy of it) or native (a residual CNN)", false, []string{"copy", "native"}, func(c *Config) *string { return &c.Model.Student }),
		enumKnob("model", "model.channels", "ONNX teacher input channel order", false, []string{"rgb", "bgr"}, func(c *Config) *string { return &c.Model.Channels }),
		floatKnob("model", "model.mean", "ONNX teacher input: pixel mean subtracted (0-255 scale)", false, 0, 255, 0.5, func(c *Config) *float64 { return &c.Model.Mean }),
		floatKnob("model", "model.std", "ONNX teacher input: divisor after the mean (0-255 scale)", false, 0.001, 1000, 1, func(c *Config) *float64 { return &c.Model.Std }),
		{
			Name: "eval.lr_sizes", Help: "LR sides of the evaluation sweep, comma separated", Group: "eval",
			Get: func(c *Config) string {
				parts := make([]string, len(c.Eval.LRSizes))
				for i, s := range c.Eval.LRSizes {
					parts[i] = strconv.Itoa(s)
				}
				return strings.Join(parts, ",")
			},
			Set: func(c *Config, v string) error {
				var sizes []int
				for _, p := range strings.Split(v, ",") {
					n, err := strconv.Atoi(strings.TrimSpace(p))
					if err != nil || n < 2 {
						return fmt.Errorf("eval.lr_sizes=%q: want sides in pixels like 8,12,16", v)
					}
					sizes = append(sizes, n)
				}
				sort.Ints(sizes)
				c.Eval.LRSizes = sizes
				return nil
			},
			Check: func(c *Config) error {
				for _, s := range c.Eval.LRSizes {
					if s >= c.Data.HR {
						return fmt.Errorf("eval.lr_sizes: %d px is not below data.hr=%d", s, c.Data.HR)
					}
				}
				return nil
			},
		},
		intKnob("eval", "eval.folds", "verification folds", false, 2, 100, func(c *Config) *int { return &c.Eval.Folds }),
		intKnob("eval", "eval.pairs", "verification pairs", false, 20, 1000000, func(c *Config) *int { return &c.Eval.Pairs }),
		intKnob("eval", "eval.gallery_per_id", "gallery images per mated identity", false, 1, 100, func(c *Config) *int { return &c.Eval.GalleryPerID }),
		floatKnob("eval", "eval.distractors", "share of eval identities used as gallery distractors", false, 0, 0.9, 0.05, func(c *Config) *float64 { return &c.Eval.Distractors }),
		boolKnob("eval", "eval.flip_tta", "sum each embedding with its flipped image's", func(c *Config) *bool { return &c.Eval.FlipTTA }),
	}
	return ks
}
