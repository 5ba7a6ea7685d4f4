package engine

import (
	"reflect"
	"testing"
)

func knob(t *testing.T, name string) Knob {
	t.Helper()
	k, err := FindKnob(name)
	if err != nil {
		t.Fatal(err)
	}
	return *k
}

func TestKnobNext(t *testing.T) {
	cases := []struct {
		knob, cur string
		dir       int
		want      string
		ok        bool
	}{
		{"margin", "0.4", 1, "0.45", true},
		{"margin", "0.4", -1, "0.35", true},
		{"margin", "0.35", -1, "0.3", true}, // no 0.30000000000000004
		{"margin", "1.5", 1, "", false},     // at Max
		{"margin", "0.02", -1, "0", true},   // clamped to Min
		{"margin", "0", -1, "", false},
		{"h", "0.333", 1, "0.383", true},
		{"aug.jpeg_min", "60", 1, "61", true},
		{"weight_decay", "0.0005", 1, "0.0006", true},
		{"head", "arcface", 1, "cosface", true},
		{"head", "arcface", -1, "adaface", true}, // enums wrap
		{"head", "adaface", 1, "arcface", true},
		{"policy", "fixed", 1, "agreement", true},
		{"policy", "fixed", -1, "quality", true},
		{"margin", "abc", 1, "", false},
	}
	for _, c := range cases {
		got, ok := knob(t, c.knob).Next(c.cur, c.dir)
		if got != c.want || ok != c.ok {
			t.Errorf("Next(%s, %q, %d) = %q, %v; want %q, %v", c.knob, c.cur, c.dir, got, ok, c.want, c.ok)
		}
	}
}

func TestKnobSame(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"0.3", "0.30", true}, {"0.3", "0.3", true}, {"1e-4", "0.0001", true},
		{"0.3", "0.35", false}, {"arcface", "arcface", true}, {"arcface", "cosface", false},
	} {
		if got := (Knob{}).Same(c.a, c.b); got != c.want {
			t.Errorf("Same(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

// TestKnobCatalogue holds every knob of the catalogue to the same rules:
// its value survives printing and parsing, printing is canonical, its
// bounds are accepted and what lies past them refused, and stepping a
// live knob from either bound stays inside them.
func TestKnobCatalogue(t *testing.T) {
	base := Default()
	seen := map[string]bool{}
	for _, k := range Knobs {
		t.Run(k.Name, func(t *testing.T) {
			if seen[k.Name] {
				t.Fatalf("listed twice")
			}
			seen[k.Name] = true
			if k.Help == "" || k.Group == "" || k.Get == nil || k.Set == nil {
				t.Fatalf("incomplete: %+v", k)
			}
			cur := k.Get(&base)
			c := base.Clone()
			if err := k.Set(&c, cur); err != nil {
				t.Fatalf("its own value %q does not parse: %v", cur, err)
			}
			if got := k.Get(&c); got != cur {
				t.Errorf("round trip %q → %q", cur, got)
			}
			if got := k.Canonical(cur); got != cur {
				t.Errorf("Canonical(%q) = %q: values are not printed canonically", cur, got)
			}
			if len(k.Options) > 0 || k.Max <= k.Min {
				return
			}
			if k.Check == nil {
				t.Fatalf("range %g..%g but no Check", k.Min, k.Max)
			}
			for _, v := range []float64{k.Min, k.Max} {
				c := base.Clone()
				if err := k.Set(&c, k.Format(v)); err != nil {
					t.Errorf("bound %s does not parse: %v", k.Format(v), err)
				} else if err := k.Check(&c); err != nil {
					t.Errorf("bound %s refused: %v", k.Format(v), err)
				}
			}
			for _, v := range []float64{k.Min - 1, k.Max + 1} {
				c := base.Clone()
				if err := k.Set(&c, k.Format(v)); err == nil && k.Check(&c) == nil {
					t.Errorf("%s past the range %s accepted", k.Format(v), k.Range())
				}
			}
			if !k.Live {
				return // only live knobs are stepped (in the TUI)
			}
			if next, ok := k.Next(k.Format(k.Max), 1); ok {
				t.Errorf("stepped past Max to %s", next)
			}
			if next, ok := k.Next(k.Format(k.Min), -1); ok {
				t.Errorf("stepped past Min to %s", next)
			}
			if next, ok := k.Next(k.Format(k.Min), 1); ok {
				c := base.Clone()
				if err := k.Set(&c, next); err != nil || k.Check(&c) != nil {
					t.Errorf("a step up from Min gives %q, which the knob refuses", next)
				}
			}
		})
	}
}

func TestKnobCanonicalAndFormat(t *testing.T) {
	for _, c := range []struct{ knob, in, want string }{
		{"margin", "0.30", "0.3"},
		{"margin", "0.30000000000000004", "0.3"},
		{"margin", " 0.5 ", "0.5"},
		{"weight_decay", "1e-4", "0.0001"},
		{"ckpt.every_steps", "1000000", "1000000"},
		{"head", "arcface", "arcface"},
		{"margin", "abc", "abc"},
	} {
		if got := knob(t, c.knob).Canonical(c.in); got != c.want {
			t.Errorf("%s Canonical(%q) = %q, want %q", c.knob, c.in, got, c.want)
		}
	}
	if got := KnobText("no.such.knob", "0.30000000000000004"); got != "0.30000000000000004" {
		t.Errorf("an unknown knob's value changed to %q", got)
	}
	if got := knob(t, "ckpt.every_steps").Range(); got != "0 … 1000000  step 1" {
		t.Errorf("Range() = %q", got)
	}
}

// TestTeacherRun: a teacher run's configuration forgets every student-only
// knob (so two comparisons that differ in them share teachers) and keeps
// every knob the teacher phase reads.
func TestTeacherRun(t *testing.T) {
	ref := Default()
	c := ref.Clone()
	for _, kv := range []string{"eps=0", "lambda=2", "acr=support", "alpha=1", "policy=fixed", "student.epochs=9", "lr_student=0.0001", "model.student=native"} {
		if err := ApplySet(&c, []string{kv}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := TeacherRun(c, ref); err != nil || !reflect.DeepEqual(got, ref) {
		t.Errorf("student knobs survive in the teacher run:\n got %+v\nwant %+v", got.Hyper, ref.Hyper)
	}
	for _, kv := range []string{"lr_teacher=0.05", "teacher.epochs=3", "margin=0.3", "aug.p_lr=0.2", "model.width=16", "data.hr=64"} {
		d := ref.Clone()
		if err := ApplySet(&d, []string{kv}); err != nil {
			t.Fatal(err)
		}
		if got, err := TeacherRun(d, ref); err != nil || reflect.DeepEqual(got, ref) {
			t.Errorf("%s is lost from the teacher run", kv)
		}
	}
}
