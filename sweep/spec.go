package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ccface/ccface/engine"
)

// Spec is a sweep as its author writes it (YAML):
//
//	name: margins
//	preset: tiny
//	data: synth
//	set:                 # knobs every trial shares
//	  teacher.epochs: 2
//	grid:                # every combination, the last knob varying fastest
//	  method: [ccface, proxyless]
//	  margin: [0.3, 0.5]
//	random:              # a seeded random sample, crossed with the grid
//	  count: 3
//	  seed: 7
//	  knobs:
//	    lambda: {min: 0.1, max: 4, log: true}
//	    policy: [fixed, agreement]
//	seeds: [1, 2]        # each setting once per seed (innermost)
//	teacher: ../t/sess   # optional: students start from this session's teacher
type Spec struct {
	Name    string
	Preset  string
	Data    string
	Set     []Setting   // shared by every trial, in the order written
	Grid    []Axis      // in the order written
	Random  *RandomSpec // nil: no random sample
	Seeds   []int64
	Teacher string // a session directory, relative to the sweep folder when not absolute
}

// Setting is one knob assignment.
type Setting struct{ Knob, Value string }

// validName is what a sweep may be called.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,50}$`)

func (s Setting) String() string { return s.Knob + "=" + s.Value }

// Axis is one knob of the grid and the values it takes.
type Axis struct {
	Knob   string
	Values []string
}

// RandomSpec draws Count settings of its knobs from a generator seeded by Seed.
type RandomSpec struct {
	Count int
	Seed  uint64
	Knobs []RandomKnob
}

// RandomKnob is a range (uniform, or log-uniform when Log) or a list of choices.
type RandomKnob struct {
	Knob     string
	Min, Max float64
	Log, Int bool
	Choices  []string // when set, one of these is drawn
}

// maxTrials bounds a plan: a typo in a grid should not fill a disk with folders.
const maxTrials = 100000

// ParseSpec reads a YAML spec; name is the file, for error messages.
func ParseSpec(name string, data []byte) (Spec, error) {
	var raw struct {
		Name   string    `yaml:"name"`
		Preset string    `yaml:"preset"`
		Data   string    `yaml:"data"`
		Set    yaml.Node `yaml:"set"`
		Grid   yaml.Node `yaml:"grid"`
		Random *struct {
			Count int       `yaml:"count"`
			Seed  uint64    `yaml:"seed"`
			Knobs yaml.Node `yaml:"knobs"`
		} `yaml:"random"`
		Seeds   []int64 `yaml:"seeds"`
		Teacher string  `yaml:"teacher"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // a misspelt section must not silently drop knobs
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return Spec{}, fmt.Errorf("%s: empty spec: write at least `grid:` or `random:` (see `ccface sweep plan --help`)", name)
		}
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			// yaml's message names Go types; say it in the spec's terms.
			msg := te.Errors[0]
			if m := unknownField.FindStringSubmatch(msg); m != nil {
				msg = fmt.Sprintf("line %s: unknown key %q: a spec has name, preset, data, set, grid, random (count, seed, knobs), seeds and teacher", m[1], m[2])
			}
			return Spec{}, fmt.Errorf("%s: %s", name, msg)
		}
		return Spec{}, fmt.Errorf("%s: %w", name, err)
	}
	s := Spec{Name: raw.Name, Preset: raw.Preset, Data: raw.Data, Seeds: raw.Seeds, Teacher: raw.Teacher}
	if s.Name == "" {
		s.Name = "sweep"
	}
	if !validName.MatchString(s.Name) { // it names folders, Slurm jobs and Kubernetes objects
		return Spec{}, fmt.Errorf("%s: name %q: use letters, digits, - and _ only, at most 50", name, s.Name)
	}
	if s.Preset == "" {
		s.Preset = "default"
	}
	if s.Data == "" {
		s.Data = "synth"
	}
	var err error
	if s.Set, err = parseSettings(name, "set", &raw.Set); err != nil {
		return Spec{}, err
	}
	if s.Grid, err = parseGrid(name, &raw.Grid); err != nil {
		return Spec{}, err
	}
	if raw.Random != nil {
		r := &RandomSpec{Count: raw.Random.Count, Seed: raw.Random.Seed}
		if r.Count < 1 {
			return Spec{}, fmt.Errorf("%s: random.count %d: want at least 1", name, r.Count)
		}
		if r.Knobs, err = parseRandomKnobs(name, &raw.Random.Knobs); err != nil {
			return Spec{}, err
		}
		s.Random = r
	}
	return s, nil
}

// mapping returns the key/value pairs of a mapping node (none when absent).
func mapping(file, section string, n *yaml.Node) ([][2]*yaml.Node, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: %s: want a mapping of knob: value", file, n.Line, section)
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	return out, nil
}

// scalar returns a knob value exactly as written (0.30 stays 0.30).
func scalar(file, what string, n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Value == "" || strings.ContainsAny(n.Value, " \t\n") {
		return "", fmt.Errorf("%s:%d: %s: want a single value without spaces", file, n.Line, what)
	}
	return n.Value, nil
}

func parseSettings(file, section string, n *yaml.Node) ([]Setting, error) {
	pairs, err := mapping(file, section, n)
	if err != nil {
		return nil, err
	}
	var out []Setting
	for _, p := range pairs {
		v, err := scalar(file, section+"."+p[0].Value, p[1])
		if err != nil {
			return nil, err
		}
		out = append(out, Setting{p[0].Value, v})
	}
	return out, nil
}

func parseGrid(file string, n *yaml.Node) ([]Axis, error) {
	pairs, err := mapping(file, "grid", n)
	if err != nil {
		return nil, err
	}
	var out []Axis
	for _, p := range pairs {
		knob := p[0].Value
		if p[1].Kind != yaml.SequenceNode || len(p[1].Content) == 0 {
			return nil, fmt.Errorf("%s:%d: grid.%s: want a list of values, e.g. [0.3, 0.5]", file, p[1].Line, knob)
		}
		a := Axis{Knob: knob}
		for _, v := range p[1].Content {
			s, err := scalar(file, "grid."+knob, v)
			if err != nil {
				return nil, err
			}
			a.Values = append(a.Values, s)
		}
		out = append(out, a)
	}
	return out, nil
}

func parseRandomKnobs(file string, n *yaml.Node) ([]RandomKnob, error) {
	pairs, err := mapping(file, "random.knobs", n)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("%s: random.knobs: name at least one knob, e.g. lambda: {min: 0.1, max: 4}", file)
	}
	var out []RandomKnob
	for _, p := range pairs {
		k := RandomKnob{Knob: p[0].Value}
		where := fmt.Sprintf("%s:%d: random.knobs.%s", file, p[1].Line, k.Knob)
		switch p[1].Kind {
		case yaml.SequenceNode:
			for _, v := range p[1].Content {
				s, err := scalar(file, "random.knobs."+k.Knob, v)
				if err != nil {
					return nil, err
				}
				k.Choices = append(k.Choices, s)
			}
			if len(k.Choices) == 0 {
				return nil, fmt.Errorf("%s: empty list of choices", where)
			}
		case yaml.MappingNode:
			var r struct {
				Min *float64 `yaml:"min"`
				Max *float64 `yaml:"max"`
				Log bool     `yaml:"log"`
				Int bool     `yaml:"int"`
			}
			if err := p[1].Decode(&r); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			if r.Min == nil || r.Max == nil || !(*r.Min <= *r.Max) {
				return nil, fmt.Errorf("%s: want {min: A, max: B} with A ≤ B", where)
			}
			if r.Log && *r.Min <= 0 {
				return nil, fmt.Errorf("%s: a log range needs min > 0", where)
			}
			k.Min, k.Max, k.Log, k.Int = *r.Min, *r.Max, r.Log, r.Int
		default:
			return nil, fmt.Errorf("%s: want a list of choices or {min: A, max: B, log: true|false}", where)
		}
		out = append(out, k)
	}
	return out, nil
}

var unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type`)

// Trial is one line of a plan.
type Trial struct {
	Index    int
	Settings []Setting // the knobs that vary across the sweep
}

// ID is the trial's session ID, its fixed folder under trials/.
func (t Trial) ID() string { return fmt.Sprintf("t%04d", t.Index) }

// Name describes the trial by its varying knobs.
func (t Trial) Name() string {
	parts := make([]string, len(t.Settings))
	for i, s := range t.Settings {
		parts[i] = s.String()
	}
	if len(parts) == 0 {
		return "base"
	}
	return strings.Join(parts, " ")
}

// Plan expands the spec into its trials: grid points (last knob fastest),
// each crossed with every random draw, each once per seed. The same spec
// always gives the same plan: random draws come from a PCG generator,
// whose sequence math/rand/v2 documents as fixed.
func (s Spec) Plan() ([]Trial, error) {
	points := [][]Setting{nil}
	for _, a := range s.Grid {
		var next [][]Setting
		for _, p := range points {
			for _, v := range a.Values {
				next = append(next, append(append([]Setting(nil), p...), Setting{a.Knob, v}))
			}
			if len(next) > maxTrials {
				return nil, fmt.Errorf("the grid has over %d trials: sample it with random: instead", maxTrials)
			}
		}
		points = next
	}
	draws := [][]Setting{nil}
	if s.Random != nil {
		rng := rand.New(rand.NewPCG(s.Random.Seed, 0x5eed))
		draws = nil
		for range s.Random.Count {
			var d []Setting
			for _, k := range s.Random.Knobs {
				d = append(d, Setting{k.Knob, k.draw(rng)})
			}
			draws = append(draws, d)
		}
	}
	seeds := []string{""}
	if len(s.Seeds) > 0 {
		seeds = nil
		for _, sd := range s.Seeds {
			seeds = append(seeds, strconv.FormatInt(sd, 10))
		}
	}
	if n := len(points) * len(draws) * len(seeds); n > maxTrials {
		return nil, fmt.Errorf("the plan has %d trials, over the limit of %d", n, maxTrials)
	}
	var trials []Trial
	for _, p := range points {
		for _, d := range draws {
			for _, sd := range seeds {
				set := append(append([]Setting(nil), p...), d...)
				if sd != "" {
					set = append(set, Setting{"seed", sd})
				}
				trials = append(trials, Trial{Index: len(trials), Settings: set})
			}
		}
	}
	return trials, nil
}

// draw picks one value, printed with 4 significant digits so trial names
// stay readable (the value run is the value printed).
func (k RandomKnob) draw(rng *rand.Rand) string {
	if k.Choices != nil {
		return k.Choices[rng.IntN(len(k.Choices))]
	}
	u := rng.Float64()
	var v float64
	if k.Log {
		v = math.Exp(math.Log(k.Min) + u*(math.Log(k.Max)-math.Log(k.Min)))
	} else {
		v = k.Min + u*(k.Max-k.Min)
	}
	if k.Int {
		return strconv.FormatInt(int64(math.Round(v)), 10)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// BaseConfig is the configuration every trial starts from: the preset, the
// data and the shared knobs.
func (s Spec) BaseConfig() (engine.Config, error) {
	cfg, err := engine.ParsePreset(s.Preset)
	if err != nil {
		return cfg, err
	}
	cfg.Data.Source = s.Data
	if err := engine.ApplySet(&cfg, settingStrings(s.Set)); err != nil {
		return cfg, fmt.Errorf("set: %w", err)
	}
	return cfg, nil
}

func settingStrings(ss []Setting) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.String()
	}
	return out
}
