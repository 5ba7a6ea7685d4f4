package sessions

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/ccface/ccface/engine"
)

// ManifestVersion is the manifest format this package writes and reads.
// Bump it when a change would make an older ccface misread a manifest.
const ManifestVersion = 1

// File names inside a session directory.
const (
	ManifestFile = "manifest.json"
	EventsFile   = "events.jsonl"
	LockFile     = "lock"
	LogFileName  = "ccface.log"
	PlotsDirName = "plots"
)

// Manifest describes a session: what ran, on what data, with which code.
// Config is the configuration the run started with; live knob changes are
// recorded as KindHyper events (see Session.ConfigAt).
type Manifest struct {
	Version         int           `json:"version"`
	ID              string        `json:"id"`
	Name            string        `json:"name,omitempty"`
	Created         time.Time     `json:"created"`
	Config          engine.Config `json:"config"`
	DataFingerprint string        `json:"data_fingerprint,omitempty"`
	Method          string        `json:"method"`
	Parent          *ParentRef    `json:"parent,omitempty"` // set when forked
	CodeVersion     string        `json:"code_version"`
	// Provenance is what defines the run beyond its configuration, where a
	// caller records it (compare: the teacher, data and training code it
	// was keyed by), so a later caller can say why it is not the same run.
	Provenance map[string]string `json:"provenance,omitempty"`
}

// ParentRef names the session and checkpoint step a fork started from.
type ParentRef struct {
	ID   string `json:"id"`
	Step int64  `json:"step"`
}

// VersionError reports a manifest whose format version this ccface cannot read.
type VersionError struct {
	File      string
	Got, Want int
	Code      string // CodeVersion recorded in the manifest, if readable
}

func (e *VersionError) Error() string {
	if e.Got > e.Want {
		by := ""
		if e.Code != "" {
			by = " (written by ccface " + e.Code + ")"
		}
		return fmt.Sprintf("%s: manifest version %d is newer than this ccface reads (version %d)%s: upgrade ccface to open this session",
			e.File, e.Got, e.Want, by)
	}
	return fmt.Sprintf("%s: manifest version %d is not one this ccface reads (version %d): the file is damaged or not a ccface manifest",
		e.File, e.Got, e.Want)
}

// CodeVersion names the running ccface build: the VCS revision (with
// "-dirty" for modified trees) when the binary was built from a checkout,
// else the module version ("(devel)" for `go run` and tests).
func CodeVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if modified == "true" {
			rev += "-dirty"
		}
		return rev
	}
	if bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}

// DefaultRoot returns where sessions live unless the user says otherwise:
// $XDG_DATA_HOME/ccface/sessions, or ~/.local/share/ccface/sessions.
func DefaultRoot() (string, error) {
	if x := os.Getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "ccface", "sessions"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("sessions: no home directory to keep sessions in (%w): set XDG_DATA_HOME or pass --sessions DIR", err)
	}
	return filepath.Join(home, ".local", "share", "ccface", "sessions"), nil
}

// readManifest reads and checks the manifest at path.
func readManifest(path string) (Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Manifest{}, fmt.Errorf("sessions: %s: no manifest: not a session directory, or its creation was interrupted: %w", path, err)
		}
		return Manifest{}, fmt.Errorf("sessions: read manifest: %w", err)
	}
	// Look at the version before anything else, so a newer format whose
	// fields no longer fit Manifest still gets the version message.
	var head struct {
		Version     int    `json:"version"`
		CodeVersion string `json:"code_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return Manifest{}, fmt.Errorf("sessions: %s: damaged manifest (%w): restore it from a backup or remove the session", path, err)
	}
	if head.Version != ManifestVersion {
		return Manifest{}, fmt.Errorf("sessions: %w", &VersionError{File: path, Got: head.Version, Want: ManifestVersion, Code: head.CodeVersion})
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("sessions: %s: damaged manifest (%w): restore it from a backup or remove the session", path, err)
	}
	if m.ID == "" {
		m.ID = filepath.Base(filepath.Dir(path))
	}
	m.Config.FillNewKnobs() // a session recorded before a knob existed still resumes
	return m, nil
}

// writeManifest writes m atomically into dir.
func writeManifest(dir string, m Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("sessions: encode manifest of %s: %w", m.ID, err)
	}
	data = append(data, '\n')
	return WriteFileAtomic(filepath.Join(dir, ManifestFile), data, 0o644)
}
