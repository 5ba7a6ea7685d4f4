package sessions

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ccface/ccface/engine"
)

// Session is one session directory opened by this process. Its methods
// may be called from several goroutines; Manifest is plain data, to be
// changed (then saved with SaveManifest) only while no other goroutine uses
// the Session.
type Session struct {
	Dir      string   // absolute path of the session directory
	Manifest Manifest // as read from, or last written to, manifest.json

	mu     sync.Mutex
	closed bool
	lockf  *os.File      // held lock, nil when not locked
	ef     *os.File      // events.jsonl opened for append, nil until the first Append
	ew     *bufio.Writer // buffer in front of ef
	// damaged names checkpoints found damaged by LatestGoodCheckpoint, so
	// Prune does not count them among the ones it keeps.
	damaged map[string]bool
}

// idLayout is the time part of a session ID (UTC).
const idLayout = "20060102-150405"

// newID returns a fresh ID: UTC creation time and 4 random hex digits.
func newID(t time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format(idLayout) + "-" + hex.EncodeToString(b[:])
}

// checkID refuses IDs that are not a single plain directory name.
func checkID(id string) error {
	if id == "" || id == "." || id == ".." || strings.HasPrefix(id, ".") ||
		strings.ContainsAny(id, `/\`) || strings.TrimSpace(id) != id {
		return fmt.Errorf("sessions: session ID %q is not a plain directory name: leave the ID empty to get one like 20261127-101502-a3f9", id)
	}
	return nil
}

// Create makes a new session directory <root>/<ID> and writes its manifest
// atomically. Empty fields of m are filled in: ID (time-sortable, e.g.
// 20261127-101502-a3f9), Created (now), Method (from Config) and CodeVersion;
// Version is always ManifestVersion. The returned session is not locked.
func Create(root string, m Manifest) (*Session, error) {
	if root == "" {
		return nil, errors.New("sessions: create: no sessions directory given: pass --sessions DIR")
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("sessions: create in %s: %w", root, err)
	}
	if err := os.MkdirAll(absRoot, 0o755); err != nil {
		return nil, fmt.Errorf("sessions: create sessions directory %s: %w%s", absRoot, err, hint(err))
	}
	m.Version = ManifestVersion
	if m.Created.IsZero() {
		m.Created = time.Now()
	}
	if m.Method == "" {
		m.Method = m.Config.Method
	}
	if m.CodeVersion == "" {
		m.CodeVersion = CodeVersion()
	}
	m.Config = m.Config.Clone()
	var dir string
	if m.ID != "" {
		if err := checkID(m.ID); err != nil {
			return nil, err
		}
		dir = filepath.Join(absRoot, m.ID)
		if err := os.Mkdir(dir, 0o755); err != nil {
			if errors.Is(err, os.ErrExist) {
				return nil, fmt.Errorf("sessions: create %s: a session with ID %s already exists: %w", dir, m.ID, err)
			}
			return nil, fmt.Errorf("sessions: create %s: %w%s", dir, err, hint(err))
		}
	} else {
		for try := 0; ; try++ {
			m.ID = newID(m.Created)
			dir = filepath.Join(absRoot, m.ID)
			err := os.Mkdir(dir, 0o755)
			if err == nil {
				break
			}
			if !errors.Is(err, os.ErrExist) || try == 20 {
				return nil, fmt.Errorf("sessions: create %s: %w%s", dir, err, hint(err))
			}
		}
	}
	fail := func(err error) (*Session, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.Mkdir(filepath.Join(dir, PlotsDirName), 0o755); err != nil {
		return fail(fmt.Errorf("sessions: create %s: %w%s", dir, err, hint(err)))
	}
	if err := writeManifest(dir, m); err != nil {
		return fail(err)
	}
	if err := syncDir(absRoot); err != nil {
		return fail(fmt.Errorf("sessions: create %s: %w", dir, err))
	}
	return &Session{Dir: dir, Manifest: m}, nil
}

// Open opens an existing session. idOrPath is a session directory path
// (anything with a path separator, or starting with "."), an ID in root, or
// a unique prefix of one. A manifest of an unknown version is refused with
// a *VersionError naming the file.
func Open(root, idOrPath string) (*Session, error) {
	dir, err := resolve(root, idOrPath)
	if err != nil {
		return nil, err
	}
	return openDir(dir)
}

func openDir(dir string) (*Session, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sessions: open %s: %w", dir, err)
	}
	m, err := readManifest(filepath.Join(abs, ManifestFile))
	if err != nil {
		return nil, err
	}
	return &Session{Dir: abs, Manifest: m}, nil
}

// resolve turns an ID, ID prefix or path into a session directory.
func resolve(root, idOrPath string) (string, error) {
	if idOrPath == "" {
		return "", errors.New("sessions: no session given: name one by ID (`ccface sessions` lists them) or by directory")
	}
	if filepath.IsAbs(idOrPath) || strings.ContainsAny(idOrPath, `/\`) || strings.HasPrefix(idOrPath, ".") {
		return idOrPath, nil
	}
	if root != "" {
		if st, err := os.Stat(filepath.Join(root, idOrPath)); err == nil && st.IsDir() {
			return filepath.Join(root, idOrPath), nil
		}
		entries, err := os.ReadDir(root)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("sessions: look up %q in %s: %w", idOrPath, root, err)
		}
		var matches []string
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), idOrPath) && !strings.HasPrefix(e.Name(), ".") {
				matches = append(matches, e.Name())
			}
		}
		sort.Strings(matches)
		switch {
		case len(matches) == 1:
			return filepath.Join(root, matches[0]), nil
		case len(matches) > 1:
			show := matches
			if len(show) > 5 {
				show = append(show[:5:5], "…")
			}
			return "", fmt.Errorf("sessions: %q matches %d sessions in %s (%s): give more of the ID",
				idOrPath, len(matches), root, strings.Join(show, ", "))
		}
	}
	// A bare name that is a session directory under the working directory.
	if _, err := os.Stat(filepath.Join(idOrPath, ManifestFile)); err == nil {
		return idOrPath, nil
	}
	if root == "" {
		return "", fmt.Errorf("sessions: no session directory %q: give a session's directory, or its ID with --sessions DIR", idOrPath)
	}
	return "", fmt.Errorf("sessions: no session %q in %s: `ccface sessions` lists them, or give the session's directory", idOrPath, root)
}

// SaveManifest writes s.Manifest back atomically (to rename a session, say).
// It needs the lock.
func (s *Session) SaveManifest() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableLocked("save manifest"); err != nil {
		return err
	}
	s.Manifest.Version = ManifestVersion
	return writeManifest(s.Dir, s.Manifest)
}

// writableLocked refuses writes from a closed or unlocked session.
func (s *Session) writableLocked(op string) error {
	if s.closed {
		return fmt.Errorf("sessions: %s in %s: session is closed", op, s.Manifest.ID)
	}
	if s.lockf == nil {
		return fmt.Errorf("sessions: %s in %s: session is not locked: call Lock first", op, s.Manifest.ID)
	}
	return nil
}

// LogFile opens <dir>/ccface.log for appending. The caller closes it.
func (s *Session) LogFile() (*os.File, error) {
	path := filepath.Join(s.Dir, LogFileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sessions: open log %s: %w%s", path, err, hint(err))
	}
	return f, nil
}

// PlotsDir is where exported figures go. Create makes it; a writer should
// still os.MkdirAll it, as sessions copied by hand may lack it.
func (s *Session) PlotsDir() string { return filepath.Join(s.Dir, PlotsDirName) }

// Close flushes and fsyncs the event log and releases the lock, if held.
// It is safe to call more than once.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.lockf != nil {
		return s.releaseLocked()
	}
	return s.closeEventsLocked()
}

// ConfigAt returns the configuration in effect at step: the manifest's
// Config with the knob changes (KindHyper events) of the session's timeline
// up to and including step applied in order. Use it for display and to
// derive a fork's config; exact resume takes the knobs from the checkpoint.
// step < 0 means the end of the log.
func (s *Session) ConfigAt(step int64) (engine.Config, error) {
	events, _, err := ReadEvents(s.Dir)
	if err != nil {
		return engine.Config{}, err
	}
	kept, _ := Timeline(events)
	return configAt(s.Manifest.Config, kept, step), nil
}

// configAt replays hyper events with Step <= step (all if step < 0) onto base.
// Changes to knobs this ccface no longer knows are skipped.
func configAt(base engine.Config, timeline []engine.Event, step int64) engine.Config {
	c := base.Clone()
	for _, e := range timeline {
		if e.Kind != engine.KindHyper || (step >= 0 && e.Step > step) {
			continue
		}
		k, err := engine.FindKnob(e.Knob)
		if err != nil {
			continue
		}
		_ = k.Set(&c, e.New)
	}
	return c
}
