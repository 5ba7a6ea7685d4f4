package sessions

import (
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
