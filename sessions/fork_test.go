package sessions

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/ccface/ccface/engine"
)

func TestFork(t *testing.T) {
	root, parent := newSession(t, "base")
	unlock := mustLock(t, parent)
	app := func(evs ...engine.Event) {
		if err := parent.Append(evs...); err != nil {
			t.Fatal(err)
		}
	}
	app(engine.Event{Kind: engine.KindStart, Step: 0})
	for step := int64(1); step <= 30; step++ {
		app(point(step, 1))
		if step == 12 {
			app(engine.Event{Kind: engine.KindHyper, Step: 12, Knob: "margin", Old: "0.4", New: "0.5", By: "tui"})
		}
		if step%10 == 0 {
			if _, err := parent.WriteCheckpoint(step, makeBlob(step)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A crash after step 30, a resume from 20 that got to 24, then done.
	app(engine.Event{Kind: engine.KindStart, Step: 20})
	for step := int64(21); step <= 24; step++ {
		app(point(step, 2))
	}
	app(engine.Event{Kind: engine.KindDone, Step: 24, Message: "stopped"})
	unlock()
	// The checkpoint at 30 is damaged; fork "at 35" falls back to 20.
	flipByte(t, parent.Dir+"/"+CheckpointName(30), -1)

	before, _ := os.ReadDir(root)
	if _, _, _, _, err := Fork(root, parent, 35, []string{"margin=9"}, ""); err == nil || !strings.Contains(err.Error(), "margin") {
		t.Fatalf("bad --set accepted: %v", err)
	}
	if after, _ := os.ReadDir(root); len(after) != len(before) {
		t.Fatal("failed fork left a directory")
	}

	child, step, blob, skipped, err := Fork(root, parent, 35, []string{"margin=0.3", "alpha=0.7"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if step != 20 || checkBlob(20, blob) != nil {
		t.Fatalf("forked at %d", step)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], CheckpointName(30)) {
		t.Errorf("skipped %q", skipped)
	}
	m := child.Manifest
	if m.Parent == nil || *m.Parent != (ParentRef{ID: parent.Manifest.ID, Step: 20}) || m.Name != "base@20" ||
		m.DataFingerprint != parent.Manifest.DataFingerprint || m.Config.Hyper.Margin != 0.3 || m.Config.Hyper.Alpha != 0.7 {
		t.Errorf("child manifest %+v", m)
	}
	reopened, err := Open(root, m.ID)
	if err != nil || reopened.Manifest.Parent == nil || reopened.Manifest.Parent.ID != parent.Manifest.ID {
		t.Fatalf("reopen child: %v", err)
	}
	// Events: the parent's timeline up to 20, then the fork's own.
	evs, warns, err := ReadEvents(child.Dir)
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	var points []int64
	var hypers []engine.Event
	for _, e := range evs {
		switch e.Kind {
		case engine.KindPoint:
			points = append(points, e.Step)
			if e.Values[engine.MLoss] != 1 {
				t.Errorf("point %d from the superseded run", e.Step)
			}
		case engine.KindHyper:
			hypers = append(hypers, e)
		case engine.KindDone, engine.KindFailed:
			t.Errorf("copied %s event", e.Kind)
		}
	}
	if len(points) != 20 || points[0] != 1 || points[19] != 20 {
		t.Errorf("copied points %v", points)
	}
	if len(hypers) != 3 || hypers[0].By != "tui" ||
		hypers[1].Knob != "margin" || hypers[1].Old != "0.5" || hypers[1].New != "0.3" || hypers[1].By != "fork" || hypers[1].Step != 20 ||
		hypers[2].Knob != "alpha" || hypers[2].New != "0.7" {
		t.Errorf("hyper events %+v", hypers)
	}
	if !strings.Contains(evs[len(evs)-3].Message, "forked from session "+parent.Manifest.ID+" at step 20") {
		t.Errorf("no fork note: %+v", evs[len(evs)-3])
	}
	// The child holds its starting checkpoint and knows its knobs.
	cstep, cblob, _, err := child.LatestGoodCheckpoint(-1)
	if err != nil || cstep != 20 || !bytes.Equal(cblob, blob) {
		t.Errorf("child checkpoint %d %v", cstep, err)
	}
	if c, err := child.ConfigAt(20); err != nil || c.Hyper.Margin != 0.3 || c.Hyper.Alpha != 0.7 {
		t.Errorf("child ConfigAt(20) = %v %v", c.Hyper, err)
	}
	if c, _ := parent.ConfigAt(20); c.Hyper.Margin != 0.5 {
		t.Errorf("parent ConfigAt(20) margin %v", c.Hyper.Margin)
	}
	if c, _ := parent.ConfigAt(10); c.Hyper.Margin != 0.4 {
		t.Errorf("parent ConfigAt(10) margin %v", c.Hyper.Margin)
	}
	// Forking with no checkpoint at or before the step fails cleanly.
	if _, _, _, _, err := Fork(root, parent, 5, nil, ""); err == nil || !strings.Contains(err.Error(), "no usable checkpoint") {
		t.Errorf("fork before any checkpoint: %v", err)
	}
	sums, _, _ := List(root)
	if len(sums) != 2 || sums[1].Parent != parent.Manifest.ID || sums[1].ParentStep != 20 || !strings.Contains(FormatList(sums), parent.Manifest.ID+"@20") {
		t.Errorf("list: %+v", sums)
	}
}

// CheckFork refuses what Fork would refuse: no checkpoint at or before the
// step, or a --set the config at that checkpoint rejects.
func TestCheckFork(t *testing.T) {
	root, s := newSession(t, "base")
	if err := CheckFork(root, s.Manifest.ID, -1, nil); err == nil || !strings.Contains(err.Error(), "no checkpoint to fork from") {
		t.Errorf("a session without checkpoints: %v", err)
	}
	unlock := mustLock(t, s)
	for _, step := range []int64{10, 20} {
		if _, err := s.WriteCheckpoint(step, makeBlob(step)); err != nil {
			t.Fatal(err)
		}
	}
	unlock()
	if err := CheckFork(root, s.Manifest.ID, 5, nil); err == nil || !strings.Contains(err.Error(), "at or before step 5") {
		t.Errorf("a step before the first checkpoint: %v", err)
	}
	if err := CheckFork(root, s.Manifest.ID, 15, []string{"margin=9"}); err == nil || !strings.Contains(err.Error(), "margin") {
		t.Errorf("an out-of-range margin accepted: %v", err)
	}
	if err := CheckFork(root, s.Manifest.ID, -1, []string{"margin=0.3"}); err != nil {
		t.Errorf("a valid fork refused: %v", err)
	}
	if err := CheckFork(root, "nosuchsession", -1, nil); err == nil {
		t.Error("a missing session accepted")
	}
}
