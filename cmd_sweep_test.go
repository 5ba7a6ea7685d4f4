package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSweepTrialRunsOnceFromItsIndex plans a 2-trial sweep, runs trial 1
// from SLURM_ARRAY_TASK_ID, and runs it again: the second run finds it
// finished and exits at once, leaving its session as it was.
func TestSweepTrialRunsOnceFromItsIndex(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "s.yaml")
	var set strings.Builder
	for i := 2; i < len(small); i += 2 { // small's --set pairs, after --preset tiny
		k, v, _ := strings.Cut(small[i+1], "=")
		set.WriteString("  " + k + ": " + v + "\n")
	}
	text := "name: s\npreset: tiny\nset:\n" + set.String() + "grid:\n  margin: [0.3, 0.5]\n"
	if err := os.WriteFile(spec, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	sweepDir := filepath.Join(dir, "s")
	if code, out, errs := runCLI(t, "sweep", "plan", spec, "--out", sweepDir); code != 0 {
		t.Fatalf("plan: %d %s%s", code, out, errs)
	}
	t.Setenv("SLURM_ARRAY_TASK_ID", "1")
	code, out, errs := runCLI(t, "train", "--headless", "--sweep", sweepDir)
	if code != 0 || !strings.Contains(out, "trial 1 of 2 (index from SLURM_ARRAY_TASK_ID): margin=0.5") ||
		!strings.Contains(out, "lr_rank1=") || !strings.Contains(out, "finished") {
		t.Fatalf("trial 1: exit %d\n%s%s", code, out, errs)
	}
	events := filepath.Join(sweepDir, "trials", "t0001", "events.jsonl")
	before, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, "train", "--headless", "--sweep", sweepDir)
	if code != 0 || !strings.Contains(out, "trial 1 already finished") {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errs)
	}
	if after, _ := os.ReadFile(events); string(after) != string(before) {
		t.Error("the second run of a finished trial changed its event log")
	}
	code, out, errs = runCLI(t, "sweep", "status", sweepDir)
	if code != 0 || !strings.Contains(out, "2 trials: 1 queued, 0 running, 1 finished") {
		t.Errorf("status: exit %d\n%s%s", code, out, errs)
	}
}

// A trial's settings come from its plan: other training flags are refused,
// not silently dropped.
func TestSweepTrialRefusesOtherFlags(t *testing.T) {
	code, _, errs := runCLI(t, "train", "--headless", "--sweep", t.TempDir(), "--index", "0", "--set", "lr_student=0.01")
	if code == 0 || !strings.Contains(errs, "--set does not apply with --sweep") {
		t.Errorf("exit %d: %s", code, errs)
	}
}
