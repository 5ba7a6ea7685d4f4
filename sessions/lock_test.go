package sessions

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestLockRefusesSecondProcess(t *testing.T) {
	_, s := newSession(t, "lock")
	unlock := mustLock(t, s)
	if _, err := s.Lock(); err == nil {
		t.Error("second Lock in the same Session succeeded")
	}
	cmd, line, _ := helper(t, "lock-exit", s.Dir)
	err := cmd.Wait()
	var exit interface{ ExitCode() int }
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("helper: %v, output %q", err, line)
	}
	for _, want := range []string{"session " + s.Manifest.ID + " is in use", fmt.Sprintf("pid %d", os.Getpid()), "running since"} {
		if !strings.Contains(line, want) {
			t.Errorf("refusal %q does not say %q", line, want)
		}
	}
	// Once released, another process may take it.
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatalf("second unlock: %v", err)
	}
	cmd, line, _ = helper(t, "lock-unlock", s.Dir)
	if err := cmd.Wait(); err != nil || line != "locked\n" {
		t.Fatalf("after unlock: %v %q", err, line)
	}
}

func TestStaleLockDoesNotBlock(t *testing.T) {
	_, s := newSession(t, "stale")
	// The helper takes the lock and exits without releasing it; its details
	// stay in the lock file, but the kernel released the flock.
	cmd, line, _ := helper(t, "lock-exit", s.Dir)
	if err := cmd.Wait(); err != nil || line != "locked\n" {
		t.Fatalf("helper: %v %q", err, line)
	}
	if b, _ := os.ReadFile(s.Dir + "/" + LockFile); !strings.Contains(string(b), fmt.Sprintf(`"pid":%d`, cmd.Process.Pid)) {
		t.Fatalf("lock file %q does not hold the dead pid", b)
	}
	unlock, err := s.Lock()
	if err != nil {
		t.Fatalf("stale lock blocked: %v", err)
	}
	unlock()
}

func TestInUseErrorWithoutDetails(t *testing.T) {
	e := &InUseError{ID: "x"}
	if got := e.Error(); !strings.Contains(got, "in use by another process") {
		t.Error(got)
	}
}
