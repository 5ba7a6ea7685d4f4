package sessions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccface/ccface/engine"
)

func TestListStates(t *testing.T) {
	root := t.TempDir()
	start := engine.Event{Kind: engine.KindStart}
	phase := func(p string, step int64) engine.Event {
		return engine.Event{Kind: engine.KindPhase, Step: step, Phase: p}
	}
	eval := func(step int64, v8, v12 float64) engine.Event {
		return engine.Event{Kind: engine.KindEval, Step: step, Values: map[string]float64{
			"lr8.rank1": v8, "lr12.rank1": v12, "hr.rank1": 0.99, "hrlr8.rank1": 0.9, "lr8.rank5": 0.95}}
	}
	done := func(msg string, step int64) engine.Event {
		return engine.Event{Kind: engine.KindDone, Step: step, Message: msg}
	}
	studentPoint := point(45, 0.1)
	studentPoint.Phase = engine.PhaseStudent
	cases := []struct {
		name   string
		events []engine.Event
		hold   bool
		state  string
		phase  string
		step   int64
		best   float64
	}{
		{"fin", []engine.Event{start, phase(engine.PhaseTeacher, 0), point(1, 1), eval(30, 0.4, 0.6), phase(engine.PhaseStudent, 30), studentPoint, eval(60, 0.5, 0.55), done("finished", 60)},
			false, StateFinished, engine.PhaseStudent, 60, 0.5},
		{"stop", []engine.Event{start, phase(engine.PhaseTeacher, 0), point(1, 1), point(2, 1), done("stopped by user", 2)}, false, StateStopped, engine.PhaseTeacher, 2, -1},
		{"crash", []engine.Event{start, phase(engine.PhaseTeacher, 0), point(1, 1), point(7, 1)}, false, StateCrashed, engine.PhaseTeacher, 7, -1},
		{"fail", []engine.Event{start, point(3, 1), {Kind: engine.KindFailed, Step: 3, Message: "NaN loss"}}, false, StateFailed, engine.PhaseTeacher, 3, -1},
		{"resumed-after-done", []engine.Event{start, point(3, 1), done("stopped", 3), {Kind: engine.KindStart, Step: 3}, point(4, 1)}, false, StateCrashed, engine.PhaseTeacher, 4, -1},
		{"run", []engine.Event{start, point(1, 1)}, true, StateRunning, engine.PhaseTeacher, 1, -1},
		{"new", nil, false, StateCrashed, "", 0, -1},
	}
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	ids := map[string]string{}
	for i, c := range cases {
		s, err := Create(root, Manifest{Name: c.name, Created: t0.Add(time.Duration(i) * time.Minute), Config: engine.Preset("tiny")})
		if err != nil {
			t.Fatal(err)
		}
		ids[c.name] = s.Manifest.ID
		unlock := mustLock(t, s)
		if err := s.Append(c.events...); err != nil {
			t.Fatal(err)
		}
		if c.hold {
			s.Flush()
			defer unlock()
		} else {
			unlock()
		}
	}
	// A torn last point line does not hide the step before it.
	appendRaw(t, filepath.Join(root, ids["crash"], EventsFile), `{"kind":"point","step":8,"val`)
	// A directory that is not a session is skipped with a warning.
	os.Mkdir(filepath.Join(root, "junk"), 0o755)

	sums, warns, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "junk") {
		t.Errorf("warnings %q", warns)
	}
	if len(sums) != len(cases) {
		t.Fatalf("%d summaries", len(sums))
	}
	for i, c := range cases {
		s := sums[i] // oldest first
		if s.Name != c.name || s.ID != ids[c.name] {
			t.Errorf("row %d is %s, want %s", i, s.Name, c.name)
			continue
		}
		if s.State != c.state || s.Phase != c.phase || s.Step != c.step || s.BestLRRank1 != c.best {
			t.Errorf("%s: state %s phase %q step %d best %v; want %s %q %d %v", c.name, s.State, s.Phase, s.Step, s.BestLRRank1, c.state, c.phase, c.step, c.best)
		}
		if s.Data != "synth" || s.Method != engine.Preset("tiny").Method || s.Dir != filepath.Join(root, s.ID) {
			t.Errorf("%s: %+v", c.name, s)
		}
	}
	if sums[0].BestLRSize != 8 {
		t.Errorf("best size %d", sums[0].BestLRSize)
	}
	table := FormatList(sums)
	t.Logf("\n%s", table)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != len(cases)+1 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("table:\n%s", table)
	}
	for _, want := range []string{"50.0% @8px", "finished", "crashed", "running", "failed", "stopped"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	// Columns line up: every row has STATE at the header's offset.
	col := strings.Index(lines[0], "STATE")
	for _, l := range lines[1:] {
		if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("misaligned row %q", l)
		}
	}
	if got := FormatList(nil); !strings.Contains(got, "no sessions") {
		t.Errorf("empty: %q", got)
	}
	if sums, warns, err := List(filepath.Join(root, "missing")); err != nil || sums != nil || warns != nil {
		t.Errorf("missing root: %v %v %v", sums, warns, err)
	}
}

func TestRunningStateFromOtherProcess(t *testing.T) {
	root, s := newSession(t, "other")
	cmd, line, _ := helper(t, "lock-hold", s.Dir)
	if line != "locked\n" {
		cmd.Process.Kill()
		t.Fatalf("helper: %q", line)
	}
	sums, _, _ := List(root)
	if len(sums) != 1 || sums[0].State != StateRunning {
		t.Errorf("while held: %+v", sums)
	}
	cmd.Process.Kill()
	cmd.Wait()
	sums, _, _ = List(root)
	if len(sums) != 1 || sums[0].State != StateCrashed {
		t.Errorf("after kill: %+v", sums)
	}
}

func TestBestLRRank1(t *testing.T) {
	evs := []engine.Event{
		{Kind: engine.KindEval, Step: 10, Values: map[string]float64{"lr16.rank1": 0.9, "lr12.rank1": 0.3}},
		{Kind: engine.KindPoint, Step: 11, Values: map[string]float64{"lr8.rank1": 1}}, // not an eval
		{Kind: engine.KindEval, Step: 20, Values: map[string]float64{"lr12.rank1": 0.4, "lr12.rank5": 0.9, "hrlr8.rank1": 0.7, "lr08.rank1": 0.99}},
		{Kind: engine.KindEval, Step: 30, Values: map[string]float64{"lr12.rank1": 0.35}},
	}
	v, px, step, ok := BestLRRank1(evs)
	if !ok || v != 0.4 || px != 12 || step != 20 {
		t.Errorf("got %v %d %d %v", v, px, step, ok)
	}
	if _, _, _, ok := BestLRRank1(nil); ok {
		t.Error("ok with no events")
	}
}

// TotalSteps comes from the last start event: a resume with more epochs
// planned reports its new total.
func TestListTotalSteps(t *testing.T) {
	root := t.TempDir()
	s, err := Create(root, Manifest{Config: engine.Preset("tiny")})
	if err != nil {
		t.Fatal(err)
	}
	unlock := mustLock(t, s)
	start := func(step int64, total float64) engine.Event {
		return engine.Event{Kind: engine.KindStart, Step: step, Values: map[string]float64{engine.MTotalSteps: total}}
	}
	if err := s.Append(start(0, 100), point(3, 1), start(3, 120), point(4, 1)); err != nil {
		t.Fatal(err)
	}
	unlock()
	sums, _, err := List(root)
	if err != nil || len(sums) != 1 {
		t.Fatalf("%d sessions, %v", len(sums), err)
	}
	if sums[0].TotalSteps != 120 {
		t.Errorf("TotalSteps %d, want 120 (the last start's)", sums[0].TotalSteps)
	}
}
