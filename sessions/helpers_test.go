package sessions

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccface/ccface/engine"
)

// The test binary doubles as a helper process: with helperEnv set, TestMain
// runs the named helper instead of the tests (the os/exec pattern of the
// standard library's own tests).
const (
	helperEnv = "CCFACE_SESSIONS_HELPER"
	dirEnv    = "CCFACE_SESSIONS_DIR"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode, os.Getenv(dirEnv)))
	}
	os.Exit(m.Run())
}

func runHelper(mode, dir string) int {
	s, err := Open("", dir)
	if err != nil {
		fmt.Println("open:", err)
		return 2
	}
	unlock, err := s.Lock()
	if err != nil {
		fmt.Println(err)
		return 3
	}
	fmt.Println("locked")
	switch mode {
	case "lock-exit": // exit holding the lock: the kernel releases it
		return 0
	case "lock-hold": // hold until killed
		for {
			time.Sleep(time.Hour)
		}
	case "lock-unlock":
		if err := unlock(); err != nil {
			fmt.Println(err)
			return 4
		}
		return 0
	case "crashloop":
		return crashLoop(s)
	}
	fmt.Println("unknown helper", mode)
	return 2
}

// crashLoop trains a pretend model until killed: a point event per step,
// checkpoints pruned to the last 3. In odd thousands of steps it writes a
// checkpoint every 10 steps, so kills land mid-checkpoint; in even ones
// only at their end, so the log's write buffer fills and is written out
// mid-line and kills leave torn last lines. It resumes from the
// latest good checkpoint, as the engine will.
func crashLoop(s *Session) int {
	step, blob, skipped, err := s.LatestGoodCheckpoint(-1)
	if err == nil {
		if verr := checkBlob(step, blob); verr != nil || len(skipped) > 0 {
			fmt.Println("resume:", verr, skipped)
			return 5
		}
	} else {
		step = 0
	}
	s.Append(engine.Event{Kind: engine.KindStart, Step: step, Phase: engine.PhaseTeacher})
	for {
		step++
		if err := s.Append(engine.Event{Kind: engine.KindPoint, Step: step, Phase: engine.PhaseTeacher,
			Values: map[string]float64{engine.MLoss: 1 / float64(step), engine.MLR: 0.1, engine.MAccHR: 0.5}}); err != nil {
			fmt.Println(err)
			return 6
		}
		if step%20 == 0 {
			time.Sleep(time.Millisecond)
		}
		if step%2000 == 0 || (step/1000)%2 == 1 && step%10 == 0 {
			if _, err := s.WriteCheckpoint(step, makeBlob(step)); err != nil {
				fmt.Println(err)
				return 7
			}
			s.Append(engine.Event{Kind: engine.KindCheckpoint, Step: step, Path: CheckpointName(step)})
			if err := s.Prune(3, nil); err != nil {
				fmt.Println(err)
				return 8
			}
		}
	}
}

// makeBlob is a checkpoint payload whose size and content follow from step,
// big enough that a kill often lands mid-write.
func makeBlob(step int64) []byte {
	b := make([]byte, 200<<10+int(step%7)*150<<10)
	for i := range b {
		b[i] = byte(int64(i)*7 + step)
	}
	return b
}

func checkBlob(step int64, b []byte) error {
	if !bytes.Equal(b, makeBlob(step)) {
		return fmt.Errorf("blob of step %d: wrong content (%d bytes)", step, len(b))
	}
	return nil
}

// helper starts the test binary as a helper process on dir and waits for
// its first line of output.
func helper(t *testing.T, mode, dir string) (*exec.Cmd, string, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, dirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	line, _ := r.ReadString('\n')
	return cmd, line, r
}

// newSession creates a session with the tiny preset in a fresh root.
func newSession(t testing.TB, name string) (root string, s *Session) {
	t.Helper()
	root = filepath.Join(t.TempDir(), "sessions")
	s, err := Create(root, Manifest{Name: name, Config: engine.Preset("tiny"), DataFingerprint: "synth:1"})
	if err != nil {
		t.Fatal(err)
	}
	return root, s
}

func mustLock(t testing.TB, s *Session) func() error {
	t.Helper()
	unlock, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	return unlock
}

func point(step int64, loss float64) engine.Event {
	return engine.Event{Kind: engine.KindPoint, Step: step, Phase: engine.PhaseTeacher,
		Time:   time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC).Add(time.Duration(step) * time.Second),
		Values: map[string]float64{engine.MLoss: loss, engine.MLR: 0.1}}
}
