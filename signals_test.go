package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
)

// binary is the ccface command built once for the tests that run it as a
// user would: a real process, real pipes, real signals.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ccface-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "ccface")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// longRun trains long enough (~1000 steps of the tiny preset) that only a
// signal ends it within a test.
func longRun(root string) []string {
	return []string{"train", "--headless", "--sessions", root, "--preset", "tiny",
		"--set", "teacher.epochs=30", "--set", "ckpt.every_steps=0", "--set", "ckpt.every_minutes=0"}
}

// startCCFace starts the binary with stdout on a pipe the test reads like
// `| tee` would, and returns the reading end and the lines read so far.
func startCCFace(t *testing.T, args ...string) (*exec.Cmd, *os.File, <-chan string) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, pr, lines
}

// waitLine reads lines until one matches re.
func waitLine(t *testing.T, lines <-chan string, re *regexp.Regexp) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	var seen []string
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before a line matching %q:\n%s", re, strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			if re.MatchString(l) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line matching %q in 60 s:\n%s", re, strings.Join(seen, "\n"))
		}
	}
}

// exitCode waits for cmd and returns its exit status (128+signal when a
// signal killed it, as a shell reports it).
func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("ccface did not exit within 60 s of the signal")
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// checkStoppedCleanly: the only session stopped (not crashed) with its
// final checkpoint at its last step, and resumes from there.
func checkStoppedCleanly(t *testing.T, root string) {
	t.Helper()
	list, _, err := sessions.List(root)
	if err != nil || len(list) != 1 {
		t.Fatalf("want one session, got %d (%v)", len(list), err)
	}
	s := list[0]
	if s.State != sessions.StateStopped {
		t.Errorf("session state %q, want %q", s.State, sessions.StateStopped)
	}
	sess, err := sessions.Open(root, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	step, _, _, err := sess.LatestGoodCheckpoint(-1)
	if err != nil {
		t.Fatalf("no final checkpoint: %v", err)
	}
	events, _, _ := sessions.ReadEvents(sess.Dir)
	var last int64
	for _, ev := range events {
		if ev.Kind == engine.KindPoint {
			last = ev.Step
		}
	}
	if step != last || step == 0 {
		t.Errorf("newest checkpoint at step %d, last trained step %d: the final checkpoint is missing", step, last)
	}
	cmd, _, lines := startCCFace(t, "resume", s.ID, "--headless", "--sessions", root)
	got := waitLine(t, lines, regexp.MustCompile(`^resuming|^ccface:`))
	if want := fmt.Sprintf("from step %d", step); !strings.Contains(got, want) {
		t.Errorf("resume says %q, want %q", got, want)
	}
	_ = cmd.Process.Signal(os.Interrupt)
	if code := exitCode(t, cmd); code != 0 {
		t.Errorf("the resumed run exited %d after Ctrl-C, want 0", code)
	}
}

// TestBrokenPipeKeepsFinalCheckpoint: `ccface train --headless | tee log`,
// then Ctrl-C. tee dies first, so every later write meets a closed pipe;
// ccface must still stop cleanly with its final checkpoint (before the
// fix it died of SIGPIPE, exit 141, session crashed).
func TestBrokenPipeKeepsFinalCheckpoint(t *testing.T) {
	root := t.TempDir()
	cmd, out, lines := startCCFace(t, longRun(root)...)
	waitLine(t, lines, regexp.MustCompile(`step \d+/\d+`))
	out.Close() // tee is gone
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd); code != 0 {
		t.Fatalf("exit %d after Ctrl-C with a closed stdout, want 0 (141 is death by SIGPIPE)", code)
	}
	checkStoppedCleanly(t, root)
}

// TestRepeatedSignalIsOneRequest: GNU timeout sends SIGTERM to ccface and
// then to its process group, so ccface sees it twice within a moment. That
// is one request to stop: a clean stop with the final checkpoint, not the
// "exit at once" of a second Ctrl-C.
func TestRepeatedSignalIsOneRequest(t *testing.T) {
	root := t.TempDir()
	cmd, _, lines := startCCFace(t, longRun(root)...)
	waitLine(t, lines, regexp.MustCompile(`step \d+/\d+`))
	for i := 0; i < 2; i++ {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // two deliveries, not one coalesced
	}
	if line := waitLine(t, lines, regexp.MustCompile(`stopped at step|exiting without`)); strings.Contains(line, "exiting without") {
		t.Errorf("a repeated SIGTERM was taken as a second request: %q", line)
	}
	if code := exitCode(t, cmd); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	checkStoppedCleanly(t, root)
}

// TestTimeoutStopsCleanly: `timeout -s TERM 2 ccface train --headless`, as a
// user runs it, ends in a clean stop with the final checkpoint.
func TestTimeoutStopsCleanly(t *testing.T) {
	timeout, err := exec.LookPath("timeout")
	if err != nil {
		t.Skip("GNU timeout is not installed")
	}
	root := t.TempDir()
	cmd := exec.Command(timeout, append([]string{"-s", "TERM", "2", binary}, longRun(root)...)...)
	out, _ := cmd.CombinedOutput()
	if strings.Contains(string(out), "exiting without") || !strings.Contains(string(out), "stopped at step") {
		t.Fatalf("timeout's SIGTERM did not stop the run cleanly:\n%s", out)
	}
	checkStoppedCleanly(t, root)
}
