package sessions

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckpointRoundTrip(t *testing.T) {
	_, s := newSession(t, "ck")
	if _, err := s.WriteCheckpoint(1, []byte("x")); err == nil {
		t.Fatal("unlocked WriteCheckpoint succeeded")
	}
	mustLock(t, s)
	blobs := map[int64][]byte{200: makeBlob(200), 100: makeBlob(100), 0: {}}
	for _, step := range []int64{200, 100, 0} {
		path, err := s.WriteCheckpoint(step, blobs[step])
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(path) != CheckpointName(step) || filepath.Dir(path) != s.Dir {
			t.Errorf("path %s", path)
		}
	}
	if CheckpointName(4000) != "ckpt-000000004000.ccf" {
		t.Errorf("name %s", CheckpointName(4000))
	}
	cps, err := s.Checkpoints()
	if err != nil || len(cps) != 3 || cps[0].Step != 0 || cps[1].Step != 100 || cps[2].Step != 200 {
		t.Fatalf("Checkpoints = %+v, %v", cps, err)
	}
	for _, c := range cps {
		for _, p := range []string{c.Name, c.Path} {
			step, blob, err := s.LoadCheckpoint(p)
			if err != nil || step != c.Step || !bytes.Equal(blob, blobs[c.Step]) {
				t.Errorf("LoadCheckpoint(%s) = %d, %d bytes, %v", p, step, len(blob), err)
			}
		}
		if c.Size != int64(headerSize+len(blobs[c.Step])) {
			t.Errorf("size %d", c.Size)
		}
	}
	// Rewriting a step replaces it.
	if _, err := s.WriteCheckpoint(200, []byte("again")); err != nil {
		t.Fatal(err)
	}
	if _, blob, _ := s.LoadCheckpoint(CheckpointName(200)); string(blob) != "again" {
		t.Errorf("rewrite: %q", blob)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off += int64(len(data))
	}
	data[off] ^= 0x10
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedCheckpointFallsBack(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, path string)
		why    string
	}{
		{"flipped blob byte", func(t *testing.T, p string) { flipByte(t, p, -100) }, "checksum mismatch"},
		{"flipped step", func(t *testing.T, p string) { flipByte(t, p, 16) }, "checksum mismatch"},
		{"truncated", func(t *testing.T, p string) { os.Truncate(p, 1000) }, "header says"},
		{"empty", func(t *testing.T, p string) { os.Truncate(p, 0) }, "shorter than"},
		{"foreign", func(t *testing.T, p string) { os.WriteFile(p, bytes.Repeat([]byte("z"), 100), 0o644) }, "bad magic"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, s := newSession(t, "dmg")
			mustLock(t, s)
			for _, step := range []int64{10, 20, 30} {
				if _, err := s.WriteCheckpoint(step, makeBlob(step)); err != nil {
					t.Fatal(err)
				}
			}
			bad := filepath.Join(s.Dir, CheckpointName(30))
			c.damage(t, bad)
			_, _, err := s.LoadCheckpoint(bad)
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), c.why) {
				t.Fatalf("LoadCheckpoint: %v (want ErrDamaged naming %s: %s)", err, bad, c.why)
			}
			step, blob, skipped, err := s.LatestGoodCheckpoint(-1)
			if err != nil || step != 20 || checkBlob(20, blob) != nil {
				t.Fatalf("fell back to %d, %v", step, err)
			}
			if len(skipped) != 1 || !strings.Contains(skipped[0], CheckpointName(30)) {
				t.Errorf("skipped %q", skipped)
			}
		})
	}
}

func TestLatestGoodCheckpointAtOrBefore(t *testing.T) {
	_, s := newSession(t, "at")
	mustLock(t, s)
	if _, _, _, err := s.LatestGoodCheckpoint(-1); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("empty session: %v", err)
	}
	for _, step := range []int64{100, 200, 300} {
		s.WriteCheckpoint(step, makeBlob(step))
	}
	for _, c := range []struct{ at, want int64 }{{-1, 300}, {300, 300}, {299, 200}, {150, 100}, {100, 100}} {
		if step, blob, _, err := s.LatestGoodCheckpoint(c.at); err != nil || step != c.want || checkBlob(step, blob) != nil {
			t.Errorf("at %d: %d %v", c.at, step, err)
		}
	}
	flipByte(t, filepath.Join(s.Dir, CheckpointName(100)), -1)
	_, _, skipped, err := s.LatestGoodCheckpoint(150)
	if !errors.Is(err, ErrNoCheckpoint) || len(skipped) != 1 || !strings.Contains(err.Error(), "at or before step 150") {
		t.Errorf("all damaged: %v %q", err, skipped)
	}
}

func TestInterruptedCheckpointWriteIgnored(t *testing.T) {
	_, s := newSession(t, "tmp")
	unlock := mustLock(t, s)
	for _, step := range []int64{10, 20} {
		s.WriteCheckpoint(step, makeBlob(step))
	}
	unlock()
	// What a crash mid-write leaves: a truncated temporary file.
	full := append(makeHeader(30, makeBlob(30)), makeBlob(30)...)
	tmp := filepath.Join(s.Dir, "."+CheckpointName(30)+tmpMark+"123456")
	if err := os.WriteFile(tmp, full[:len(full)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	cps, _ := s.Checkpoints()
	if len(cps) != 2 {
		t.Errorf("temporary file listed: %+v", cps)
	}
	if step, _, skipped, err := s.LatestGoodCheckpoint(-1); err != nil || step != 20 || len(skipped) != 0 {
		t.Errorf("latest: %d %q %v", step, skipped, err)
	}
	// The next lock holder clears it away.
	mustLock(t, s)
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file still there after Lock: %v", err)
	}
}

func TestFailedCheckpointWriteKeepsPrevious(t *testing.T) {
	_, s := newSession(t, "fail")
	mustLock(t, s)
	s.WriteCheckpoint(10, makeBlob(10))
	// A directory where the checkpoint should go makes the rename fail.
	if err := os.Mkdir(filepath.Join(s.Dir, CheckpointName(20)), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := s.WriteCheckpoint(20, makeBlob(20))
	if err == nil || !strings.Contains(err.Error(), CheckpointName(20)) || !strings.Contains(err.Error(), "intact") {
		t.Fatalf("err = %v", err)
	}
	entries, _ := os.ReadDir(s.Dir)
	for _, e := range entries {
		if isTemp(e.Name()) {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if step, blob, _, err := s.LatestGoodCheckpoint(-1); err != nil || step != 10 || checkBlob(10, blob) != nil {
		t.Errorf("previous checkpoint: %d %v", step, err)
	}
}

func TestPrune(t *testing.T) {
	_, s := newSession(t, "prune")
	mustLock(t, s)
	for step := int64(1); step <= 6; step++ {
		s.WriteCheckpoint(step*100, []byte{byte(step)})
	}
	if err := s.Prune(2, map[string]bool{CheckpointName(200): true, filepath.Join(s.Dir, CheckpointName(300)): true, CheckpointName(100): false}); err != nil {
		t.Fatal(err)
	}
	cps, _ := s.Checkpoints()
	var got []int64
	for _, c := range cps {
		got = append(got, c.Step)
	}
	if want := []int64{200, 300, 500, 600}; !equalInts(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
	if err := s.Prune(0, nil); err != nil {
		t.Fatal(err)
	}
	if cps, _ := s.Checkpoints(); len(cps) != 0 {
		t.Errorf("Prune(0) kept %d", len(cps))
	}
	if err := s.Prune(-1, nil); err == nil {
		t.Error("negative keep accepted")
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// After a resume fell back past a damaged checkpoint, the damaged one does
// not count toward keep: the good one resumed from survives the next prune.
func TestPruneDoesNotCountDamaged(t *testing.T) {
	_, s := newSession(t, "prune-damaged")
	mustLock(t, s)
	for _, step := range []int64{400, 500, 800} {
		if _, err := s.WriteCheckpoint(step, []byte{byte(step)}); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(s.Dir, CheckpointName(800))
	if err := os.WriteFile(p, []byte("torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	if step, _, skipped, err := s.LatestGoodCheckpoint(-1); err != nil || step != 500 || len(skipped) != 1 {
		t.Fatalf("fallback: step %d, skipped %v, err %v", step, skipped, err)
	}
	if _, err := s.WriteCheckpoint(600, []byte{6}); err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(2, nil); err != nil {
		t.Fatal(err)
	}
	cps, _ := s.Checkpoints()
	var got []int64
	for _, c := range cps {
		got = append(got, c.Step)
	}
	if want := []int64{500, 600, 800}; !equalInts(got, want) {
		t.Errorf("kept %v, want %v (good 500 and 600, damaged 800 left for the user)", got, want)
	}
	// A good checkpoint written over the damaged name counts again.
	if _, err := s.WriteCheckpoint(800, []byte{8}); err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(2, nil); err != nil {
		t.Fatal(err)
	}
	cps, _ = s.Checkpoints()
	got = got[:0]
	for _, c := range cps {
		got = append(got, c.Step)
	}
	if want := []int64{600, 800}; !equalInts(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
}
