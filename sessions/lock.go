package sessions

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// lockWait is how long Lock retries a held lock before refusing: List
// probes locks with a momentary shared lock, which must not make a starting
// run fail.
const lockWait = 300 * time.Millisecond

// lockInfo is what the lock holder writes into the lock file, so that a
// refused process can say who holds the session.
type lockInfo struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host,omitempty"`
	Since time.Time `json:"since"`
}

// InUseError is returned by Lock when another process holds the session.
type InUseError struct {
	ID    string
	PID   int       // 0 when the holder has not yet written its details
	Host  string    // the holder's host name, if known
	Since time.Time // when the holder took the lock
}

func (e *InUseError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = fmt.Sprintf("pid %d", e.PID)
		if h, _ := os.Hostname(); e.Host != "" && e.Host != h {
			who += " on " + e.Host
		}
	}
	since := ""
	if !e.Since.IsZero() {
		since = fmt.Sprintf(" (running since %s, %s ago)", e.Since.Local().Format("2006-01-02 15:04:05"),
			time.Since(e.Since).Round(time.Second))
	}
	return fmt.Sprintf("session %s is in use by %s%s: wait for it to finish or stop it, or fork the session to branch from it", e.ID, who, since)
}

// Lock takes the session's exclusive write lock (flock on <dir>/lock) for
// this process, and removes temporary files a crashed writer left behind.
// If another process holds it, Lock retries briefly and then returns an
// *InUseError. The lock is tied to the open file, so the kernel releases it
// when its process dies: a lock file left by a killed run never blocks.
//
// unlock flushes and closes the event log and releases the lock; it is safe
// to call more than once. Close also releases the lock.
func (s *Session) Lock() (unlock func() error, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("sessions: lock %s: session is closed", s.Manifest.ID)
	}
	if s.lockf != nil {
		return nil, fmt.Errorf("sessions: lock %s: already locked by this process", s.Manifest.ID)
	}
	path := filepath.Join(s.Dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sessions: lock %s: %w%s", s.Manifest.ID, err, hint(err))
	}
	deadline := time.Now().Add(lockWait)
	for {
		ok, err := tryLock(f, true)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("sessions: lock %s: %w", path, err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			info := readLockInfo(f)
			f.Close()
			return nil, fmt.Errorf("sessions: %w", &InUseError{ID: s.Manifest.ID, PID: info.PID, Host: info.Host, Since: info.Since})
		}
		time.Sleep(20 * time.Millisecond)
	}
	host, _ := os.Hostname()
	info, _ := json.Marshal(lockInfo{PID: os.Getpid(), Host: host, Since: time.Now()})
	if err := writeLockInfo(f, append(info, '\n')); err != nil {
		unlockFile(f)
		f.Close()
		return nil, fmt.Errorf("sessions: lock %s: write %s: %w%s", s.Manifest.ID, path, err, hint(err))
	}
	s.lockf = f
	s.removeTemps()
	return func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.lockf != f {
			return nil // already released
		}
		return s.releaseLocked()
	}, nil
}

// releaseLocked flushes and closes the event log, then releases the lock.
// s.mu must be held.
func (s *Session) releaseLocked() error {
	var errs []error
	if err := s.closeEventsLocked(); err != nil {
		errs = append(errs, err)
	}
	if f := s.lockf; f != nil {
		s.lockf = nil
		// Keep the file (unlinking it races with a process opening it) but
		// clear the holder's details.
		_ = f.Truncate(0)
		if err := errors.Join(unlockFile(f), f.Close()); err != nil {
			errs = append(errs, fmt.Errorf("sessions: unlock %s: %w", s.Manifest.ID, err))
		}
	}
	return errors.Join(errs...)
}

func writeLockInfo(f *os.File, b []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	return f.Sync()
}

func readLockInfo(f *os.File) lockInfo {
	var info lockInfo
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	if err == nil {
		_ = json.Unmarshal(b, &info)
	}
	return info
}

// lockHeld reports whether a live process holds dir's lock.
func lockHeld(dir string) bool {
	f, err := os.Open(filepath.Join(dir, LockFile))
	if err != nil {
		return false
	}
	defer f.Close()
	ok, err := tryLock(f, false)
	if err != nil {
		return false
	}
	if ok {
		unlockFile(f)
		return false
	}
	return true
}

// removeTemps deletes temporary files left by an interrupted write. Only
// the lock holder calls it, so no write of another process is in flight.
func (s *Session) removeTemps() {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if isTemp(e.Name()) {
			_ = os.Remove(filepath.Join(s.Dir, e.Name()))
		}
	}
}
