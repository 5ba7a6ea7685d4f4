package live

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
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
	if runKey(a, nil) == runKey(b, nil) {
		t.Fatal("two margin policies share a compare key")
	}
	c := a.Clone()
	c.Seed = 7
	if runKey(a, nil) != runKey(c, nil) {
		t.Fatal("the seed changed the key (it is in the session name already)")
	}
}

// trainTeacher trains a teacher-only session of cfg with seed and returns
// its ID.
func trainTeacher(t *testing.T, root string, cfg engine.Config, seed int64) string {
	t.Helper()
	engine.ApplyMethod(&cfg, "teacher")
	cfg.Seed = seed
	r, err := Open(Spec{Root: root, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Drive(func(r *Run) error { return r.Watch(nil) }); err != nil {
		t.Fatal(err)
	}
	return r.Session().Manifest.ID
}

// TestCompareKeysRunsByTeacher: compare --teacher A, then --teacher B, must
// train B's students anew (saying why A's are not reused) instead of
// tabulating A's students under B's teacher row; the same comparison
// again reuses every run and says so.
func TestCompareKeysRunsByTeacher(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	base := smallConfig(t)
	other := base.Clone() // same seed (it draws the data), another teacher
	other.Hyper.Margin = base.Hyper.Margin / 2
	a, b := trainTeacher(t, root, base, base.Seed), trainTeacher(t, root, other, base.Seed)
	compare := func(teacher string) string {
		var log strings.Builder
		err := Compare(context.Background(), CompareSpec{Root: root, Base: base, Methods: []string{"ccface"}, Seeds: 1,
			Teacher: teacher, Out: out, Log: &log})
		if err != nil {
			t.Fatalf("compare --teacher %s: %v\n%s", teacher, err, log.String())
		}
		return log.String()
	}
	compare(a)
	log := compare(b)
	if !strings.Contains(log, ": training\n") || !strings.Contains(log, "not reusing") || !strings.Contains(log, "another teacher") {
		t.Fatalf("compare --teacher B did not train its own student, or did not say why A's was not reused:\n%s", log)
	}
	students := map[string]string{} // teacher checkpoint hash → student session
	list, _, _ := sessions.List(root)
	for _, s := range list {
		sess, err := sessions.Open(root, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if sess.Manifest.Method == "ccface" {
			students[sess.Manifest.Provenance[provTeacher]] = s.ID
		}
	}
	if len(students) != 2 {
		t.Fatalf("want one student per teacher, got %v", students)
	}
	log = compare(b)
	if !strings.Contains(log, "reusing finished session") || strings.Contains(log, ": training\n") {
		t.Errorf("the same comparison again did not reuse its student:\n%s", log)
	}
}

// A teacher session's classifier knows its seed's training identities:
// students of another seed (other synthetic faces, another held-out split)
// are refused, not trained against the wrong rows.
func TestCompareRefusesATeacherOfAnotherSeed(t *testing.T) {
	root := t.TempDir()
	base := smallConfig(t)
	teacher := trainTeacher(t, root, base, base.Seed+1)
	err := Compare(context.Background(), CompareSpec{Root: root, Base: base, Methods: []string{"ccface"}, Seeds: 1,
		Teacher: teacher, Out: t.TempDir(), Log: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "the seed draws this data's training identities") {
		t.Errorf("compare with a teacher of another seed: %v", err)
	}
	err = Compare(context.Background(), CompareSpec{Root: root, Base: base, Methods: []string{"ccface"}, Seeds: 2,
		Teacher: teacher, Out: t.TempDir(), Log: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "--seeds 1") {
		t.Errorf("compare --seeds 2 with one teacher session: %v", err)
	}
}

// TestOneSeedHasNoSpread: a table of one seed shows plain means, not
// "± 0.0" as if a spread had been measured.
func TestOneSeedHasNoSpread(t *testing.T) {
	cfg := engine.Default()
	values := map[string]float64{engine.EvalKey("hr", engine.EVerifAcc): 0.9}
	for seeds, want := range map[int]string{1: "| 90.0 |", 2: "| 90.0 ± 0.0 |"} {
		results := map[string][]map[string]float64{}
		for i := 0; i < seeds; i++ {
			results["teacher"] = append(results["teacher"], values)
		}
		var log strings.Builder
		if err := writeComparison(t.TempDir(), []string{"teacher"}, results, cfg, seeds, &log); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(log.String(), want) || (seeds == 1 && strings.Contains(log.String(), "±")) {
			t.Errorf("%d seed(s): want a cell %q and ± only with more than one seed:\n%s", seeds, want, log.String())
		}
	}
}
