package sessions

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccface/ccface/engine"
)

func TestEventsRoundTrip(t *testing.T) {
	_, s := newSession(t, "ev")
	if err := s.Append(point(1, 1)); err == nil || !strings.Contains(err.Error(), "not locked") {
		t.Fatalf("unlocked Append: %v", err)
	}
	mustLock(t, s)
	want := []engine.Event{
		{Kind: engine.KindStart, Step: 0, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Values: map[string]float64{engine.MTotalSteps: 100}},
		point(1, 2.5),
		point(2, math.NaN()),
		point(3, math.Inf(1)),
		{Kind: engine.KindHyper, Step: 3, Knob: "margin", Old: "0.4", New: "0.3", By: "tui", Time: time.Date(2026, 1, 1, 0, 0, 3, 0, time.UTC)},
		{Kind: engine.KindEval, Step: 3, Phase: engine.PhaseTeacher, Time: time.Date(2026, 1, 1, 0, 0, 4, 0, time.UTC),
			Values: map[string]float64{"lr8.rank1": 0.25},
			Curves: map[string]engine.Curve{"roc.hr": {X: []float64{0, 0.5, 1}, Y: []float64{0, 0.9, 1}}}},
	}
	if err := s.Append(want...); err != nil {
		t.Fatal(err)
	}
	noTime := engine.Event{Kind: engine.KindLog, Step: 3, Message: "hello"}
	if err := s.Append(noTime); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, warns, err := ReadEvents(s.Dir)
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	if len(got) != len(want)+1 {
		t.Fatalf("%d events, want %d", len(got), len(want)+1)
	}
	if v := got[2].Values[engine.MLoss]; !math.IsNaN(v) {
		t.Errorf("NaN loss read back as %v", v)
	}
	if v := got[3].Values[engine.MLoss]; !math.IsInf(v, 1) {
		t.Errorf("+Inf loss read back as %v", v)
	}
	got[2].Values[engine.MLoss], want[2].Values[engine.MLoss] = 0, 0
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) {
			t.Errorf("event %d time %v want %v", i, got[i].Time, want[i].Time)
		}
		got[i].Time, want[i].Time = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(got[:len(want)], want) {
		t.Errorf("events differ:\n got %+v\nwant %+v", got, want)
	}
	if last := got[len(got)-1]; last.Message != "hello" || last.Time.IsZero() {
		t.Errorf("zero Time not filled: %+v", last)
	}
	// ReadEvents also takes the file itself; a missing log is no events.
	if evs, _, err := ReadEvents(filepath.Join(s.Dir, EventsFile)); err != nil || len(evs) != len(got) {
		t.Errorf("by file: %d %v", len(evs), err)
	}
	if evs, _, err := ReadEvents(t.TempDir()); err != nil || evs != nil {
		t.Errorf("missing log: %v %v", evs, err)
	}
}

func writeLog(t *testing.T, s *Session, n int) {
	t.Helper()
	unlock := mustLock(t, s)
	for i := 1; i <= n; i++ {
		if err := s.Append(point(int64(i), 1/float64(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}

func appendRaw(t *testing.T, path, raw string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(raw)
	f.Close()
}

func TestTornLastLineTolerated(t *testing.T) {
	for _, torn := range []string{`{"kind":"point","step":5,"epo`, `{"kind":"po`, "\x00\x00\x00\x00", `{"kind":"point","step":5}` + "\x00\x00\n"} {
		t.Run(fmt.Sprintf("%q", torn), func(t *testing.T) {
			_, s := newSession(t, "torn")
			writeLog(t, s, 4)
			path := filepath.Join(s.Dir, EventsFile)
			appendRaw(t, path, torn)
			evs, warns, err := ReadEvents(s.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 4 {
				t.Errorf("%d events, want 4", len(evs))
			}
			blank := isBlank([]byte(torn))
			if blank && len(warns) != 0 || !blank && (len(warns) != 1 || !strings.Contains(warns[0], EventsFile+":5")) {
				t.Errorf("warnings %q", warns)
			}
			// The next writer cuts the torn line off before appending, so
			// it does not become a corrupt middle line.
			unlock := mustLock(t, s)
			if err := s.Append(point(5, 0.2)); err != nil {
				t.Fatal(err)
			}
			unlock()
			evs, warns, err = ReadEvents(s.Dir)
			if err != nil || len(warns) != 0 || len(evs) != 5 || evs[4].Step != 5 {
				t.Fatalf("after repair: %d events, %q, %v", len(evs), warns, err)
			}
			if !blank {
				if log, _ := os.ReadFile(filepath.Join(s.Dir, LogFileName)); !strings.Contains(string(log), "torn last line") {
					t.Errorf("repair not noted in the log: %q", log)
				}
			}
		})
	}
}

func TestCompleteLastLineWithoutNewline(t *testing.T) {
	_, s := newSession(t, "nl")
	writeLog(t, s, 2)
	appendRaw(t, filepath.Join(s.Dir, EventsFile), `{"kind":"point","step":3,"time":"2026-01-01T00:00:00Z"}`)
	evs, warns, err := ReadEvents(s.Dir)
	if err != nil || len(warns) != 0 || len(evs) != 3 {
		t.Fatalf("%d %q %v", len(evs), warns, err)
	}
	writeLog(t, s, 1) // appends step 1 again after the repaired newline
	if evs, _, err := ReadEvents(s.Dir); err != nil || len(evs) != 4 {
		t.Fatalf("%d %v", len(evs), err)
	}
}

func TestCorruptMiddleLineReported(t *testing.T) {
	_, s := newSession(t, "corrupt")
	writeLog(t, s, 2)
	path := filepath.Join(s.Dir, EventsFile)
	appendRaw(t, path, "{\"kind\":\"point\",\"st#garbage\n"+`{"kind":"point","step":3}`+"\n")
	evs, _, err := ReadEvents(s.Dir)
	if err == nil {
		t.Fatal("corrupt middle line accepted")
	}
	if !strings.Contains(err.Error(), path+":3") {
		t.Errorf("error %q does not name %s:3", err, path)
	}
	if len(evs) != 2 {
		t.Errorf("%d events before the damage, want 2", len(evs))
	}
}

func TestTimeline(t *testing.T) {
	st := func(step int64) engine.Event { return engine.Event{Kind: engine.KindStart, Step: step} }
	h := engine.Event{Kind: engine.KindHyper, Step: 27, Knob: "margin", New: "0.3"}
	var evs []engine.Event
	evs = append(evs, st(0))
	for i := int64(1); i <= 25; i++ {
		evs = append(evs, point(i, 1))
	}
	evs = append(evs, h)
	for i := int64(26); i <= 30; i++ { // killed after step 30; checkpoint at 20
		evs = append(evs, point(i, 1))
	}
	evs = append(evs, st(20))
	for i := int64(21); i <= 24; i++ { // killed again; no newer checkpoint
		evs = append(evs, point(i, 2))
	}
	evs = append(evs, st(20))
	for i := int64(21); i <= 40; i++ {
		evs = append(evs, point(i, 3))
	}
	kept, sup := Timeline(evs)
	var steps []int64
	for _, e := range kept {
		if e.Kind == engine.KindPoint {
			steps = append(steps, e.Step)
			if e.Step > 20 && e.Values[engine.MLoss] != 3 {
				t.Errorf("step %d kept from a superseded run", e.Step)
			}
		}
	}
	for i, s := range steps {
		if s != int64(i+1) {
			t.Fatalf("kept point steps %v, want 1..40", steps)
		}
	}
	if len(steps) != 40 {
		t.Fatalf("kept %d points", len(steps))
	}
	if len(sup) != 5+1+5+4 {
		t.Errorf("superseded: %d events", len(sup))
	}
	foundH := false
	for _, e := range sup {
		foundH = foundH || e.Kind == engine.KindHyper
	}
	if !foundH {
		t.Error("the lost knob change is not among the superseded events")
	}
}

func TestAppendDiskErrorIsReported(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	_, s := newSession(t, "full")
	mustLock(t, s)
	// Point the log at /dev/full: every write fails with ENOSPC.
	if err := os.Symlink("/dev/full", filepath.Join(s.Dir, EventsFile)); err != nil {
		t.Skip(err)
	}
	var err error
	for i := 0; i < 5000 && err == nil; i++ {
		err = s.Append(point(int64(i), 1))
	}
	if err == nil {
		err = s.Flush()
	}
	if err == nil || !strings.Contains(err.Error(), "disk is full") || !strings.Contains(err.Error(), EventsFile) {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("err does not unwrap to ENOSPC: %v", err)
	}
}

// BenchmarkReadEvents reads a log the size of a long run: 100k point events.
func BenchmarkReadEvents(b *testing.B) {
	_, s := newSession(b, "bench")
	mustLock(b, s)
	for i := int64(1); i <= 100_000; i++ {
		e := point(i, 1/float64(i))
		e.Epoch = float64(i) / 1000
		for _, k := range []string{engine.MLossCCLR, engine.MLossCCHR, engine.MAccLR, engine.MAccHR, engine.MMargin, engine.MThetaLR, engine.MThetaHR, engine.MImgPerSec} {
			e.Values[k] = float64(i) * 0.001
		}
		if err := s.Append(e); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(s.Dir, EventsFile)
	st, _ := os.Stat(path)
	b.Run("ReadEvents", func(b *testing.B) {
		b.SetBytes(st.Size())
		for b.Loop() {
			evs, _, err := ReadEvents(s.Dir)
			if err != nil || len(evs) != 100_000 {
				b.Fatal(len(evs), err)
			}
		}
	})
	// The same with one decoder, to see what the parallel decoding buys.
	b.Run("one-decoder", func(b *testing.B) {
		b.SetBytes(st.Size())
		for b.Loop() {
			f, _ := os.Open(path)
			evs, _, err := readEventsParallel(f, path, 1)
			f.Close()
			if err != nil || len(evs) != 100_000 {
				b.Fatal(len(evs), err)
			}
		}
	})
}

// BenchmarkList summarises a session with a 100k-event log.
func BenchmarkList(b *testing.B) {
	root, s := newSession(b, "bench")
	mustLock(b, s)
	for i := int64(1); i <= 100_000; i++ {
		s.Append(point(i, 1))
	}
	s.Close()
	for b.Loop() {
		sums, _, err := List(root)
		if err != nil || len(sums) != 1 || sums[0].Step != 100_000 {
			b.Fatal(sums, err)
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	_, s := newSession(b, "bench")
	mustLock(b, s)
	e := point(1, 0.5)
	for b.Loop() {
		if err := s.Append(e); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
}

// TestConcurrentWriters appends from several goroutines while another
// writes checkpoints (run with -race).
func TestConcurrentWriters(t *testing.T) {
	_, s := newSession(t, "conc")
	mustLock(t, s)
	done := make(chan error, 5)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 500; i++ {
				if err := s.Append(point(int64(i), 1)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	go func() {
		for step := int64(1); step <= 20; step++ {
			if _, err := s.WriteCheckpoint(step, []byte("x")); err != nil {
				done <- err
				return
			}
		}
		done <- s.Flush()
	}()
	for i := 0; i < 5; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(point(1, 1)); err == nil {
		t.Error("Append after Close succeeded")
	}
	evs, warns, err := ReadEvents(s.Dir)
	if err != nil || len(warns) != 0 || len(evs) != 2000 {
		t.Fatalf("%d events, %q, %v", len(evs), warns, err)
	}
}
