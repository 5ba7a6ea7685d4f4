package sessions

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ccface/ccface/engine"
)

// Runs of several sessions are named by what differs between them (the
// knob values they started with, the step a fork started from), not by id;
// a session alone keeps its own name.
func TestRunLabelsNameRunsByWhatDiffers(t *testing.T) {
	root := t.TempDir()
	mk := func(sets []string, parent *ParentRef) *Session {
		cfg := engine.Default()
		if err := engine.ApplySet(&cfg, sets); err != nil {
			t.Fatal(err)
		}
		s, err := Create(root, Manifest{Config: cfg, Parent: parent})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	parent := mk([]string{"margin=0.4"}, nil)
	fork := mk([]string{"margin=0.3"}, &ParentRef{ID: parent.Manifest.ID, Step: 1344})
	if got := RunLabels([]*Session{parent, fork}); got[0] != "margin=0.4" || got[1] != "margin=0.3 @1344" {
		t.Fatalf("labels %q, want margin=0.4 and margin=0.3 @1344", got)
	}
	if got := RunLabels([]*Session{parent}); got[0] != parent.Title() {
		t.Errorf("a session alone is called %q, want its name %q", got[0], parent.Title())
	}
	if parent.Title() != parent.Manifest.ID {
		t.Errorf("a session without a name is titled %q, want its ID %q", parent.Title(), parent.Manifest.ID)
	}
	named, err := Create(root, Manifest{Config: engine.Default(), Name: "baseline"})
	if err != nil {
		t.Fatal(err)
	}
	if named.Title() != "baseline" {
		t.Errorf("a named session is titled %q, want baseline", named.Title())
	}
}

// ReadRecorded hands back each readable session's timeline under its
// title, and leaves out, with a warning naming it, a session with nothing
// recorded and one that does not exist.
func TestReadRecorded(t *testing.T) {
	root, s := newSession(t, "resumed")
	unlock := mustLock(t, s)
	evs := []engine.Event{{Kind: engine.KindStart}}
	for step := int64(1); step <= 10; step++ {
		evs = append(evs, point(step, 1))
	}
	evs = append(evs, engine.Event{Kind: engine.KindStart, Step: 5}) // a resume from step 5
	for step := int64(6); step <= 8; step++ {
		evs = append(evs, point(step, 2))
	}
	if err := s.Append(evs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	unlock()
	empty, err := Create(root, Manifest{Config: engine.Default()})
	if err != nil {
		t.Fatal(err)
	}
	runs, warnings := ReadRecorded(root, []string{s.Manifest.ID, empty.Manifest.ID, "nosuchsession"})
	if len(runs) != 1 || runs[0].Title != "resumed" {
		t.Fatalf("runs %+v, want the one resumed session", runs)
	}
	var steps []int64
	for _, ev := range runs[0].Events {
		if ev.Kind == engine.KindPoint {
			steps = append(steps, ev.Step)
		}
	}
	if fmt.Sprint(steps) != "[1 2 3 4 5 6 7 8]" {
		t.Errorf("timeline points at steps %v, want 1..8 (the steps after 5 from the resume)", steps)
	}
	if len(warnings) != 2 || !strings.HasPrefix(warnings[0], empty.Manifest.ID+" left out: no recorded events") ||
		!strings.HasPrefix(warnings[1], "nosuchsession left out: ") {
		t.Errorf("warnings %q", warnings)
	}
}

// ReadLogs hands back every event of each session's log (what a resume
// superseded too: figures apply Timeline themselves), in the order asked,
// and fails on a session that does not exist.
func TestReadLogs(t *testing.T) {
	root, a := newSession(t, "a")
	unlock := mustLock(t, a)
	if err := a.Append(point(1, 1), point(2, 1), engine.Event{Kind: engine.KindStart, Step: 1}, point(2, 2)); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	unlock()
	b, err := Create(root, Manifest{Config: engine.Default(), Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	opened, logs, _, err := ReadLogs(root, []string{b.Manifest.ID, a.Manifest.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(opened) != 2 || opened[0].Title() != "b" || opened[1].Title() != "a" {
		t.Fatalf("opened %d sessions, want b then a", len(opened))
	}
	if len(logs[0]) != 0 || len(logs[1]) != 4 {
		t.Errorf("logs of %d and %d events, want 0 and 4", len(logs[0]), len(logs[1]))
	}
	if _, _, _, err := ReadLogs(root, []string{a.Manifest.ID, "nosuchsession"}); err == nil {
		t.Error("a missing session read without an error")
	}
}
