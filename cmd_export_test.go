package main

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/tui"
)

// The TUI's x writes the curve the screen shows: smoothed with the screen's
// weight by the shared engine.SmoothSegments (restarted at the phase
// change), on the epoch axis, zoomed to the last 200 steps.
func TestTUIExportDrawsTheScreen(t *testing.T) {
	sess, err := sessions.Create(t.TempDir(), sessions.Manifest{Config: engine.Default()})
	if err != nil {
		t.Fatal(err)
	}
	var evs []engine.Event
	var raw []float64
	var segs []int
	evs = append(evs, engine.Event{Kind: engine.KindStart, Phase: engine.PhaseTeacher},
		engine.Event{Kind: engine.KindPhase, Phase: engine.PhaseTeacher})
	for s := int64(1); s <= 600; s++ {
		phase, seg := engine.PhaseTeacher, 0
		if s > 450 {
			phase, seg = engine.PhaseStudent, 1
		}
		if s == 451 {
			evs = append(evs, engine.Event{Kind: engine.KindPhase, Phase: phase, Step: 450})
		}
		v := 5 + math.Sin(float64(s)/7) + float64(seg)*3
		raw, segs = append(raw, v), append(segs, seg)
		evs = append(evs, engine.Event{Kind: engine.KindPoint, Step: s, Epoch: float64(s) / 100, Phase: phase,
			Values: map[string]float64{engine.MLoss: v}})
	}
	view := tui.ExportView{Smooth: 0.65, ByEpoch: true, LastSteps: 200}
	if _, err := tuiExporter(sess)(evs, view); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(sess.PlotsDir(), "loss.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	for line := range strings.SplitSeq(string(data), "\n") {
		if !strings.HasPrefix(line, "#") {
			body.WriteString(line + "\n")
		}
	}
	if !strings.Contains(string(data), "# x unit: epoch") || !strings.Contains(string(data), "EMA weight 0.65") {
		t.Fatalf("loss.csv header does not state the screen's axis and smoothing:\n%s", data[:min(len(data), 600)])
	}
	rows, err := csv.NewReader(&body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := engine.SmoothSegments(raw, segs, 0.65)[399:] // steps 400..600
	rows = rows[1:]
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d (the last 200 steps and the step they count from)", len(rows), len(want))
	}
	for i, r := range rows {
		x, _ := strconv.ParseFloat(r[2], 64)
		y, _ := strconv.ParseFloat(r[3], 64)
		if math.Abs(x-float64(400+i)/100) > 1e-9 || math.Abs(y-want[i]) > 1e-9 {
			t.Fatalf("row %d: (%v, %v), want (%v, %v)", i, x, y, float64(400+i)/100, want[i])
		}
	}
}

// Figures of several sessions name runs by what differs between them (the
// knob values they started with, the step a fork started from), not by id
// (sessions.RunLabels, tested in its package).
func TestExportNamesRunsByWhatDiffers(t *testing.T) {
	root := t.TempDir()
	mk := func(sets []string, parent *sessions.ParentRef) *sessions.Session {
		cfg := engine.Default()
		if err := engine.ApplySet(&cfg, sets); err != nil {
			t.Fatal(err)
		}
		s, err := sessions.Create(root, sessions.Manifest{Config: cfg, Parent: parent})
		if err != nil {
			t.Fatal(err)
		}
		unlock, err := s.Lock()
		if err != nil {
			t.Fatal(err)
		}
		var evs []engine.Event
		evs = append(evs, engine.Event{Kind: engine.KindStart})
		for st := int64(1); st <= 20; st++ {
			evs = append(evs, engine.Event{Kind: engine.KindPoint, Step: st, Values: map[string]float64{engine.MLoss: 1}})
		}
		if err := s.Append(evs...); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		unlock()
		return s
	}
	parent := mk([]string{"margin=0.4"}, nil)
	fork := mk([]string{"margin=0.3"}, &sessions.ParentRef{ID: parent.Manifest.ID, Step: 1344})
	out := filepath.Join(t.TempDir(), "figs")
	var stdout, stderr bytes.Buffer
	if err := cmdExport([]string{parent.Manifest.ID, fork.Manifest.ID, "--sessions", root, "--out", out, "--only", "loss"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(out, "loss.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nmargin=0.4,loss,", "\nmargin=0.3 @1344,loss,"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("loss.csv has no rows of run %q", strings.Trim(want, "\n,"))
		}
	}
	if strings.Contains(string(data), parent.Manifest.ID) {
		t.Error("loss.csv names a run by its id")
	}
}
