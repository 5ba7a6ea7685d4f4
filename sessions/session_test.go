package sessions

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ccface/ccface/engine"
)

func TestManifestRoundTrip(t *testing.T) {
	root := t.TempDir()
	cfg := engine.Preset("tiny")
	cfg.Hyper.Margin = 0.35
	created := time.Date(2026, 11, 27, 10, 15, 2, 0, time.UTC)
	s, err := Create(root, Manifest{Name: "baseline", Created: created, Config: cfg, DataFingerprint: "synth:abc",
		Parent: &ParentRef{ID: "20261126-000000-beef", Step: 40}})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^20261127-101502-[0-9a-f]{4}$`).MatchString(s.Manifest.ID) {
		t.Errorf("ID %q: want 20261127-101502-xxxx", s.Manifest.ID)
	}
	if s.Dir != filepath.Join(root, s.Manifest.ID) {
		t.Errorf("Dir %q", s.Dir)
	}
	if st, err := os.Stat(s.PlotsDir()); err != nil || !st.IsDir() {
		t.Errorf("plots dir: %v", err)
	}
	for _, how := range []string{s.Manifest.ID, s.Manifest.ID[:12], s.Dir} {
		o, err := Open(root, how)
		if err != nil {
			t.Fatalf("Open(%q): %v", how, err)
		}
		m := o.Manifest
		if m.Version != ManifestVersion || m.Name != "baseline" || !m.Created.Equal(created) ||
			m.DataFingerprint != "synth:abc" || m.Method != cfg.Method || m.CodeVersion == "" ||
			m.Parent == nil || *m.Parent != (ParentRef{ID: "20261126-000000-beef", Step: 40}) {
			t.Errorf("Open(%q) manifest = %+v", how, m)
		}
		if !reflect.DeepEqual(m.Config, cfg) {
			t.Errorf("Open(%q) config differs:\n got %+v\nwant %+v", how, m.Config, cfg)
		}
	}
	// Two sessions in the same second get distinct IDs.
	s2, err := Create(root, Manifest{Created: created, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Manifest.ID == s.Manifest.ID {
		t.Fatal("duplicate ID")
	}
	// Now the shared prefix is ambiguous and says so.
	if _, err := Open(root, "20261127"); err == nil || !strings.Contains(err.Error(), "matches 2 sessions") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := Open(root, "nope"); err == nil || !strings.Contains(err.Error(), "ccface sessions") {
		t.Errorf("unknown ID: %v", err)
	}
	if _, err := Create(root, Manifest{ID: "../escape", Config: cfg}); err == nil {
		t.Error("Create accepted an ID with a path separator")
	}
}

func TestUnknownManifestVersionRefused(t *testing.T) {
	root, s := newSession(t, "x")
	path := filepath.Join(s.Dir, ManifestFile)
	data, _ := os.ReadFile(path)
	data = []byte(strings.Replace(string(data), `"version": 1`, `"version": 7`, 1))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(root, s.Manifest.ID)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Got != 7 || ve.Want != ManifestVersion {
		t.Fatalf("err = %v, want a VersionError 7 vs 1", err)
	}
	for _, want := range []string{path, "version 7", "version 1", "upgrade ccface"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// A damaged manifest names its file too.
	os.WriteFile(path, []byte("{not json"), 0o644)
	if _, err := Open(root, s.Manifest.ID); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("damaged manifest: %v", err)
	}
	// And List skips it with a warning instead of failing.
	sums, warns, err := List(root)
	if err != nil || len(sums) != 0 || len(warns) != 1 || !strings.Contains(warns[0], path) {
		t.Errorf("List = %v, %q, %v", sums, warns, err)
	}
}

func TestSaveManifestNeedsLock(t *testing.T) {
	root, s := newSession(t, "a")
	s.Manifest.Name = "b"
	if err := s.SaveManifest(); err == nil || !strings.Contains(err.Error(), "Lock") {
		t.Fatalf("unlocked SaveManifest: %v", err)
	}
	unlock := mustLock(t, s)
	if err := s.SaveManifest(); err != nil {
		t.Fatal(err)
	}
	unlock()
	o, err := Open(root, s.Manifest.ID)
	if err != nil || o.Manifest.Name != "b" {
		t.Fatalf("reopened: %v %+v", err, o)
	}
}

func TestDefaultRoot(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/data")
	if r, err := DefaultRoot(); err != nil || r != "/data/ccface/sessions" {
		t.Errorf("with XDG_DATA_HOME: %q %v", r, err)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/u")
	if r, err := DefaultRoot(); err != nil || r != "/home/u/.local/share/ccface/sessions" {
		t.Errorf("without: %q %v", r, err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	for _, content := range []string{"one", "two"} {
		if err := WriteFileAtomic(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Fatalf("got %q want %q", got, content)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	// A failing rename (the target is a directory) leaves no temporary file.
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "d"), []byte("x"), 0o644); err == nil {
		t.Fatal("rename over a directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestUnwritableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	_, s := newSession(t, "ro")
	unlock := mustLock(t, s)
	defer unlock()
	if _, err := s.WriteCheckpoint(10, []byte("good")); err != nil {
		t.Fatal(err)
	}
	os.Chmod(s.Dir, 0o500)
	defer os.Chmod(s.Dir, 0o755)
	_, err := s.WriteCheckpoint(20, []byte("new"))
	if err == nil || !strings.Contains(err.Error(), "not writable") || !strings.Contains(err.Error(), "intact") {
		t.Fatalf("err = %v", err)
	}
	if step, blob, _, err := s.LatestGoodCheckpoint(-1); err != nil || step != 10 || string(blob) != "good" {
		t.Fatalf("previous checkpoint: %d %q %v", step, blob, err)
	}
}

// A session recorded before knobs were added (its manifest lacks them)
// opens with a configuration that validates, so it can be resumed.
func TestOldManifestGetsNewKnobs(t *testing.T) {
	root, s := newSession(t, "old")
	path := filepath.Join(s.Dir, "manifest.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	cfg := m["config"].(map[string]any)
	delete(cfg["hyper"].(map[string]any), "acr_scale")
	delete(cfg["hyper"].(map[string]any), "agree_momentum")
	model := cfg["model"].(map[string]any)
	for _, k := range []string{"student", "channels", "mean", "std"} {
		delete(model, k)
	}
	if raw, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	old, err := Open(root, s.Manifest.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Manifest.Config.Validate(); err != nil {
		t.Errorf("an old session's configuration does not validate: %v", err)
	}
}
