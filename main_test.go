package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
)

// small keeps CLI runs to a few seconds.
var small = []string{"--preset", "tiny",
	"--set", "data.train_ids=12", "--set", "data.eval_ids=6", "--set", "data.per_id=8", "--set", "data.hr=16",
	"--set", "model.width=4", "--set", "model.embed=16", "--set", "teacher.batch=16", "--set", "student.batch=16",
	"--set", "teacher.epochs=2", "--set", "student.epochs=1", "--set", "eval.lr_sizes=6", "--set", "eval.pairs=100",
	"--set", "aug.r_min=0.3", "--set", "aug.r_max=0.6", "--set", "ckpt.every_steps=4", "--set", "ckpt.keep=100"}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func onlySession(t *testing.T, root string) *sessions.Session {
	t.Helper()
	list, _, err := sessions.List(root)
	if err != nil || len(list) != 1 {
		t.Fatalf("want one session in %s, got %d (%v)", root, len(list), err)
	}
	s, err := sessions.Open(root, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHeadlessTrainResumeForkExport(t *testing.T) {
	root := t.TempDir()
	code, out, errs := runCLI(t, append([]string{"train", "--headless", "--sessions", root}, small...)...)
	if code != 0 {
		t.Fatalf("train exit %d: %s%s", code, out, errs)
	}
	for _, want := range []string{"teacher phase", "student phase", "Results", "session: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	parent := onlySession(t, root)
	events, _, err := sessions.ReadEvents(parent.Dir)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[engine.Kind]int{}
	for _, ev := range events {
		kinds[ev.Kind]++
		if ev.Time.IsZero() {
			t.Fatalf("event without time: %+v", ev)
		}
	}
	if kinds[engine.KindPoint] == 0 || kinds[engine.KindEval] != 2 || kinds[engine.KindDone] != 1 {
		t.Fatalf("event kinds %v", kinds)
	}

	code, out, errs = runCLI(t, "resume", parent.Manifest.ID, "--headless", "--sessions", root)
	if code != 0 || !strings.Contains(out, "resuming") {
		t.Fatalf("resume of a finished session: exit %d: %s%s", code, out, errs)
	}

	code, out, errs = runCLI(t, "fork", parent.Manifest.ID, "--at", "4", "--set", "margin=0.25", "--headless", "--sessions", root)
	if code != 0 {
		t.Fatalf("fork exit %d: %s%s", code, out, errs)
	}
	list, _, _ := sessions.List(root)
	var child *sessions.Session
	for _, s := range list {
		if s.ID != parent.Manifest.ID {
			child, _ = sessions.Open(root, s.ID)
		}
	}
	if child == nil || child.Manifest.Parent == nil || child.Manifest.Parent.ID != parent.Manifest.ID || child.Manifest.Parent.Step != 4 {
		t.Fatalf("fork did not record its parent at step 4: %+v", child)
	}
	cevents, _, _ := sessions.ReadEvents(child.Dir)
	changed := false
	for _, ev := range cevents {
		changed = changed || (ev.Kind == engine.KindHyper && ev.Knob == "margin" && ev.New == "0.25")
	}
	if !changed {
		t.Error("the fork's margin change is not in its event log")
	}

	plotDir := filepath.Join(t.TempDir(), "plots")
	code, out, errs = runCLI(t, "export", parent.Manifest.ID, child.Manifest.ID, "--sessions", root, "--out", plotDir, "--format", "svg")
	if code != 0 || !strings.Contains(out, "wrote") {
		t.Fatalf("export exit %d: %s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(plotDir, "loss.svg")); err != nil {
		t.Errorf("no loss figure: %v", err)
	}
	if _, err := os.Stat(filepath.Join(plotDir, "loss.csv")); err != nil {
		t.Errorf("no loss CSV: %v", err)
	}
}

// TestBadInputWritesNothing: each mistake gets one line naming the value,
// a non-zero exit, and no session on disk.
func TestBadInputWritesNothing(t *testing.T) {
	empty := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--set", "margin=3"}, "margin=3"},
		{[]string{"--set", "nosuchknob=1"}, `unknown knob "nosuchknob"`},
		{[]string{"--set", "margin"}, "want key=value"},
		{[]string{"--data", filepath.Join(empty, "missing")}, "missing"},
		{[]string{"--data", empty}, empty},
		{[]string{"--preset", "huge"}, `unknown preset "huge"`},
		{[]string{"--set", "teacher.batch=1000"}, "batch 1000"},
	}
	for _, c := range cases {
		root := t.TempDir()
		args := append([]string{"train", "--headless", "--sessions", root}, small...)
		code, _, errs := runCLI(t, append(args, c.args...)...)
		if code == 0 {
			t.Errorf("%v: exit 0", c.args)
		}
		if lines := strings.Count(strings.TrimSpace(errs), "\n") + 1; lines != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: stderr %q, want one line mentioning %q", c.args, errs, c.want)
		}
		if entries, _ := os.ReadDir(root); len(entries) != 0 {
			t.Errorf("%v: left %d entries in the sessions folder", c.args, len(entries))
		}
	}
}
