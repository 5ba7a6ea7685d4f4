package sweep

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
)

// Files and folders of a sweep folder (see the package doc).
const (
	SpecFile   = "spec.yaml"
	SweepFile  = "sweep.json"
	TrialsFile = "trials.tsv"
	TrialsDir  = "trials"
	LogsDir    = "logs"
	SlurmDir   = "slurm"
	K8sDir     = "k8s"
)

// FormatVersion is the version of sweep.json this code writes and reads.
const FormatVersion = 1

// Sweep is a planned sweep folder.
type Sweep struct {
	Dir     string // absolute path of the sweep folder
	Name    string
	Preset  string
	Data    string
	Set     []Setting
	Teacher string
	Trials  []Trial
}

type sweepJSON struct {
	Version int      `json:"version"`
	Name    string   `json:"name"`
	Preset  string   `json:"preset"`
	Data    string   `json:"data"`
	Set     []string `json:"set"`
	Teacher string   `json:"teacher,omitempty"`
	Trials  int      `json:"trials"`
}

// Sweep checks every trial's configuration and returns the sweep the spec
// describes, to be written to dir. A bad knob is named with its trial.
func (s Spec) Sweep(dir string) (*Sweep, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sweep folder %s: %w", dir, err)
	}
	trials, err := s.Plan()
	if err != nil {
		return nil, err
	}
	sw := &Sweep{Dir: abs, Name: s.Name, Preset: s.Preset, Data: s.Data, Set: s.Set, Teacher: s.Teacher, Trials: trials}
	if _, err := s.BaseConfig(); err != nil {
		return nil, err
	}
	for _, t := range trials {
		if _, err := sw.Config(t); err != nil {
			return nil, err
		}
	}
	return sw, nil
}

// Config is the configuration trial t runs with.
func (sw *Sweep) Config(t Trial) (engine.Config, error) {
	cfg, err := engine.ParsePreset(sw.Preset)
	if err != nil {
		return cfg, err
	}
	cfg.Data.Source = sw.Data
	sets := append(settingStrings(sw.Set), settingStrings(t.Settings)...)
	if err := engine.ApplySet(&cfg, sets); err != nil {
		return cfg, fmt.Errorf("trial %d (%s): %w", t.Index, t.Name(), err)
	}
	return cfg, nil
}

// Trial returns the trial of an index, or an error naming the valid range.
func (sw *Sweep) Trial(index int) (Trial, error) {
	if index < 0 || index >= len(sw.Trials) {
		return Trial{}, fmt.Errorf("trial index %d: the sweep in %s has trials 0..%d", index, sw.Dir, len(sw.Trials)-1)
	}
	return sw.Trials[index], nil
}

// TrialsRoot is the sessions root that holds one session per trial.
func (sw *Sweep) TrialsRoot() string { return filepath.Join(sw.Dir, TrialsDir) }

// TeacherDir is the teacher session's folder ("" when the sweep trains its
// own teachers); a relative path is taken from the sweep folder, so a
// teacher kept inside the folder travels with it to a cluster.
func (sw *Sweep) TeacherDir() string {
	if sw.Teacher == "" || filepath.IsAbs(sw.Teacher) {
		return sw.Teacher
	}
	return filepath.Join(sw.Dir, sw.Teacher)
}

// encode renders sweep.json and trials.tsv.
func (sw *Sweep) encode() (sweepFile, trialsFile []byte, err error) {
	sweepFile, err = json.MarshalIndent(sweepJSON{Version: FormatVersion, Name: sw.Name, Preset: sw.Preset,
		Data: sw.Data, Set: settingStrings(sw.Set), Teacher: sw.Teacher, Trials: len(sw.Trials)}, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	b.WriteString("index\tname\tsettings\n")
	for _, t := range sw.Trials {
		fmt.Fprintf(&b, "%d\t%s\t%s\n", t.Index, t.ID(), strings.Join(settingStrings(t.Settings), " "))
	}
	return append(sweepFile, '\n'), b.Bytes(), nil
}

// Write creates the sweep folder. Planning the same spec into a folder
// again changes nothing (planned is false); a folder that holds a different
// plan is refused, so no trial's results are ever orphaned.
func (sw *Sweep) Write(spec []byte) (planned bool, err error) {
	sweepFile, trialsFile, err := sw.encode()
	if err != nil {
		return false, err
	}
	oldSweep, err1 := os.ReadFile(filepath.Join(sw.Dir, SweepFile))
	oldTrials, err2 := os.ReadFile(filepath.Join(sw.Dir, TrialsFile))
	if err1 == nil || err2 == nil {
		if bytes.Equal(oldSweep, sweepFile) && bytes.Equal(oldTrials, trialsFile) {
			return false, nil
		}
		return false, fmt.Errorf("%s already holds a different sweep plan: plan into a new folder (or remove that one if its trials are not wanted)", sw.Dir)
	}
	if entries, err := os.ReadDir(sw.Dir); err == nil && len(entries) > 0 {
		return false, fmt.Errorf("%s exists and is not empty: plan into a new folder", sw.Dir)
	}
	for _, d := range []string{sw.Dir, sw.TrialsRoot(), filepath.Join(sw.Dir, LogsDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return false, fmt.Errorf("create sweep folder: %w", err)
		}
	}
	// trials.tsv and sweep.json last: a folder with them is complete.
	for _, f := range []struct {
		name string
		data []byte
	}{{SpecFile, spec}, {TrialsFile, trialsFile}, {SweepFile, sweepFile}} {
		if err := sessions.WriteFileAtomic(filepath.Join(sw.Dir, f.name), f.data, 0o644); err != nil {
			return false, fmt.Errorf("write sweep folder: %w", err)
		}
	}
	return true, nil
}

// Load reads a sweep folder written by Write.
func Load(dir string) (*Sweep, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sweep folder %s: %w", dir, err)
	}
	path := filepath.Join(abs, SweepFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a sweep folder (no %s): make one with `ccface sweep plan SPEC --out %s`", dir, SweepFile, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read sweep: %w", err)
	}
	var j sweepJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if j.Version != FormatVersion {
		return nil, fmt.Errorf("%s: sweep format version %d, this ccface reads version %d: use the ccface that planned it", path, j.Version, FormatVersion)
	}
	sw := &Sweep{Dir: abs, Name: j.Name, Preset: j.Preset, Data: j.Data, Teacher: j.Teacher}
	for _, s := range j.Set {
		k, v, _ := strings.Cut(s, "=")
		sw.Set = append(sw.Set, Setting{k, v})
	}
	if sw.Trials, err = readTrials(filepath.Join(abs, TrialsFile)); err != nil {
		return nil, err
	}
	if len(sw.Trials) != j.Trials {
		return nil, fmt.Errorf("%s lists %d trials, %s says %d: the folder is damaged; plan it again into a new folder",
			TrialsFile, len(sw.Trials), path, j.Trials)
	}
	return sw, nil
}

func readTrials(path string) ([]Trial, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read trials: %w", err)
	}
	defer f.Close()
	var trials []Trial
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			continue // header
		}
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s:%d: want index, name and settings separated by tabs", path, line)
		}
		idx, err := strconv.Atoi(fields[0])
		if err != nil || idx != len(trials) {
			return nil, fmt.Errorf("%s:%d: index %q: want %d", path, line, fields[0], len(trials))
		}
		t := Trial{Index: idx}
		for _, s := range strings.Fields(fields[2]) {
			k, v, ok := strings.Cut(s, "=")
			if !ok {
				return nil, fmt.Errorf("%s:%d: setting %q: want knob=value", path, line, s)
			}
			t.Settings = append(t.Settings, Setting{k, v})
		}
		if t.ID() != fields[1] {
			return nil, fmt.Errorf("%s:%d: name %q: want %s", path, line, fields[1], t.ID())
		}
		trials = append(trials, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return trials, nil
}

// PlanFile plans the sweep of the spec file at specPath into dir (default:
// the spec's path without its extension) and lists its trials on w; a
// folder that already holds this plan is left as it is.
func PlanFile(specPath, dir string, w io.Writer) error {
	text, err := os.ReadFile(specPath)
	if err != nil {
		return fmt.Errorf("sweep spec: %w", err)
	}
	s, err := ParseSpec(specPath, text)
	if err != nil {
		return err
	}
	if dir == "" {
		dir = strings.TrimSuffix(specPath, filepath.Ext(specPath))
	}
	sw, err := s.Sweep(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	planned, err := sw.Write(text)
	if err != nil {
		return err
	}
	if !planned {
		fmt.Fprintf(w, "%s already holds this plan (%d trials); nothing changed\n", sw.Dir, len(sw.Trials))
		return nil
	}
	fmt.Fprintf(w, "planned %d trials into %s (%s):\n", len(sw.Trials), sw.Dir, TrialsFile)
	for _, t := range sw.Trials {
		fmt.Fprintf(w, "  %d  %s\n", t.Index, t.Name())
	}
	fmt.Fprintf(w, "run one with `ccface train --headless --sweep %s --index 0`, or see `ccface sweep slurm|k8s %s`\n", dir, dir)
	return nil
}
