package live

import (
	"testing"

	"github.com/ccface/ccface/engine"
)

// smallConfig keeps a run to a few seconds.
func smallConfig(t *testing.T) engine.Config {
	t.Helper()
	cfg, err := engine.ParsePreset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	err = engine.ApplySet(&cfg, []string{"data.train_ids=12", "data.eval_ids=6", "data.per_id=8", "data.hr=16",
		"model.width=4", "model.embed=16", "teacher.batch=16", "student.batch=16",
		"teacher.epochs=2", "student.epochs=1", "eval.lr_sizes=6", "eval.pairs=100",
		"aug.r_min=0.3", "aug.r_max=0.6", "ckpt.every_steps=4", "ckpt.keep=100"})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestKnobHistorySurvivesResume: a margin change at step k is in the log,
// replayed to the screens of the resumed run at k, and still in effect.
func TestKnobHistorySurvivesResume(t *testing.T) {
	root := t.TempDir()
	r, err := Open(Spec{Root: root, Config: smallConfig(t)})
	if err != nil {
		t.Fatal(err)
	}
	view, cancel := r.hub.Subscribe()
	changedAt := int64(-1)
	for batch := range view.Events() {
		for _, ev := range batch {
			if ev.Kind == engine.KindPoint && ev.Step == 3 && changedAt < 0 {
				if err := r.eng.SetKnob("margin", "0.3", "test"); err != nil {
					t.Fatal(err)
				}
			}
			if ev.Kind == engine.KindHyper {
				changedAt = ev.Step
				if err := r.eng.Checkpoint("test"); err != nil {
					t.Fatal(err)
				}
			}
			if ev.Kind == engine.KindCheckpoint && changedAt >= 0 && ev.Step >= changedAt {
				r.eng.Stop("test")
			}
		}
	}
	cancel()
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	if changedAt < 0 {
		t.Fatal("the knob change was never applied")
	}
	r2, err := Open(Spec{Root: root, Resume: r.sess.Manifest.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got := r2.eng.Config().Hyper.Margin; got != 0.3 {
		t.Errorf("resumed with margin %v, want 0.3", got)
	}
	view2, cancel2 := r2.hub.Subscribe()
	r2.eng.Stop("test")
	replayed := false
	for batch := range view2.Events() {
		for _, ev := range batch {
			replayed = replayed || (ev.Kind == engine.KindHyper && ev.Step == changedAt && ev.New == "0.3")
		}
	}
	cancel2()
	if err := r2.Finish(); err != nil {
		t.Fatal(err)
	}
	if !replayed {
		t.Errorf("the resumed run's screens did not get the change at step %d", changedAt)
	}
}

// TestCompareKeysEveryKnobTheRunUses: runs differing only in a knob that
// a method sets (here the margin policy) must not share a session name.
func TestCompareKeysEveryKnobTheRunUses(t *testing.T) {
	a := engine.Default()
	b := a.Clone()
	b.Hyper.Policy = "resolution"
	if configKey(a) == configKey(b) {
		t.Fatal("two margin policies share a compare key")
	}
	c := a.Clone()
	c.Seed = 7
	if configKey(a) != configKey(c) {
		t.Fatal("the seed changed the key (it is in the session name already)")
	}
}
