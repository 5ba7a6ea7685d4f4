package sessions

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Checkpoint file format, version 1. All integers are little-endian.
//
//	offset size
//	0      8    magic "CCFCKPT\n"
//	8      4    format version (1)
//	12     4    reserved, zero
//	16     8    step (int64)
//	24     8    blob length in bytes (uint64)
//	32     32   SHA-256 of bytes 0..31 followed by the blob
//	64     n    blob: the engine's state, opaque to this package
const (
	checkpointVersion = 1
	headerSize        = 64
)

var checkpointMagic = [8]byte{'C', 'C', 'F', 'C', 'K', 'P', 'T', '\n'}

// ErrDamaged marks a checkpoint that fails its checks (torn, truncated,
// bit-flipped, or not a checkpoint). Test with errors.Is.
var ErrDamaged = errors.New("damaged checkpoint")

// ErrNoCheckpoint is returned when a session has no usable checkpoint.
var ErrNoCheckpoint = errors.New("no usable checkpoint")

var checkpointName = regexp.MustCompile(`^ckpt-([0-9]{12,19})\.ccf$`)

// CheckpointName is the file name of the checkpoint at step.
func CheckpointName(step int64) string { return fmt.Sprintf("ckpt-%012d.ccf", step) }

// CheckpointInfo describes a checkpoint file, from its name and size only
// (LoadCheckpoint verifies the content).
type CheckpointInfo struct {
	Name    string // file name, e.g. ckpt-000000004000.ccf
	Path    string // absolute path
	Step    int64
	Size    int64
	ModTime time.Time
}

// WriteCheckpoint stores blob as the checkpoint at step and returns its
// path. It first flushes and fsyncs the event log, so every event appended
// before the call is on disk when the checkpoint is. The write is atomic:
// on any failure (a full disk, say) the previous checkpoints stay intact.
// An existing checkpoint at the same step is replaced. It needs the lock.
func (s *Session) WriteCheckpoint(step int64, blob []byte) (path string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableLocked("write checkpoint"); err != nil {
		return "", err
	}
	if step < 0 {
		return "", fmt.Errorf("sessions: write checkpoint in %s: negative step %d", s.Manifest.ID, step)
	}
	if err := s.flushLocked(); err != nil {
		return "", fmt.Errorf("%w; the checkpoint at step %d was not written", err, step)
	}
	path, err = writeCheckpoint(s.Dir, step, blob)
	if err == nil {
		delete(s.damaged, filepath.Base(path)) // replaced by a good one
	}
	return path, err
}

func writeCheckpoint(dir string, step int64, blob []byte) (string, error) {
	path := filepath.Join(dir, CheckpointName(step))
	hdr := makeHeader(step, blob)
	err := writeAtomic(path, 0o644, func(w io.Writer) error {
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		_, err := w.Write(blob)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("%w; the earlier checkpoints are intact", err)
	}
	return path, nil
}

func makeHeader(step int64, blob []byte) []byte {
	h := make([]byte, headerSize)
	copy(h[0:8], checkpointMagic[:])
	binary.LittleEndian.PutUint32(h[8:12], checkpointVersion)
	binary.LittleEndian.PutUint64(h[16:24], uint64(step))
	binary.LittleEndian.PutUint64(h[24:32], uint64(len(blob)))
	sum := sha256.New()
	sum.Write(h[:32])
	sum.Write(blob)
	copy(h[32:64], sum.Sum(nil))
	return h
}

// Checkpoints lists the session's checkpoints sorted by step. Temporary
// files of interrupted writes and other files are ignored.
func (s *Session) Checkpoints() ([]CheckpointInfo, error) {
	return listCheckpoints(s.Dir)
}

// CheckpointSteps lists the steps of the session's checkpoints, oldest
// first; nil when they cannot be listed.
func (s *Session) CheckpointSteps() []int64 {
	cps, err := s.Checkpoints()
	if err != nil {
		return nil
	}
	steps := make([]int64, len(cps))
	for i, c := range cps {
		steps[i] = c.Step
	}
	return steps
}

func listCheckpoints(dir string) ([]CheckpointInfo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sessions: list checkpoints: %w", err)
	}
	var out []CheckpointInfo
	for _, e := range entries {
		m := checkpointName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		step, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			continue
		}
		ci := CheckpointInfo{Name: e.Name(), Path: filepath.Join(dir, e.Name()), Step: step}
		if fi, err := e.Info(); err == nil {
			ci.Size, ci.ModTime = fi.Size(), fi.ModTime()
		}
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Step < out[j].Step })
	return out, nil
}

// LoadCheckpoint reads and verifies a checkpoint. path is a file name in
// the session directory (as in CheckpointInfo.Name) or any path. A
// checkpoint that fails its checks gives an error wrapping ErrDamaged that
// names the file.
func (s *Session) LoadCheckpoint(path string) (step int64, blob []byte, err error) {
	if filepath.Base(path) == path {
		path = filepath.Join(s.Dir, path)
	}
	return readCheckpoint(path)
}

func readCheckpoint(path string) (int64, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, fmt.Errorf("sessions: read checkpoint: %w", err)
	}
	damaged := func(format string, args ...any) error {
		return fmt.Errorf("sessions: checkpoint %s: %w: %s; resume falls back to an earlier checkpoint, delete this file once you no longer need it",
			path, ErrDamaged, fmt.Sprintf(format, args...))
	}
	if len(data) < headerSize {
		return 0, nil, damaged("only %d bytes, shorter than its %d-byte header", len(data), headerSize)
	}
	if !bytes.Equal(data[0:8], checkpointMagic[:]) {
		return 0, nil, damaged("not a ccface checkpoint (bad magic %q)", data[0:8])
	}
	if v := binary.LittleEndian.Uint32(data[8:12]); v != checkpointVersion {
		return 0, nil, fmt.Errorf("sessions: checkpoint %s: format version %d, this ccface reads version %d: upgrade ccface", path, v, checkpointVersion)
	}
	step := int64(binary.LittleEndian.Uint64(data[16:24]))
	n := binary.LittleEndian.Uint64(data[24:32])
	if n != uint64(len(data)-headerSize) {
		return 0, nil, damaged("header says %d bytes of state, the file holds %d", n, len(data)-headerSize)
	}
	sum := sha256.New()
	sum.Write(data[:32])
	sum.Write(data[headerSize:])
	if !bytes.Equal(sum.Sum(nil), data[32:64]) {
		return 0, nil, damaged("checksum mismatch")
	}
	if m := checkpointName.FindStringSubmatch(filepath.Base(path)); m != nil {
		if named, _ := strconv.ParseInt(m[1], 10, 64); named != step {
			return 0, nil, damaged("named for step %d but holds step %d", named, step)
		}
	}
	return step, data[headerSize:], nil
}

// LatestGoodCheckpoint loads the newest checkpoint at or before atOrBefore
// (-1: the newest of all) that passes its checks. Each damaged one passed
// over is reported in skipped, naming the file and what is wrong. With no
// usable checkpoint the error wraps ErrNoCheckpoint.
func (s *Session) LatestGoodCheckpoint(atOrBefore int64) (step int64, blob []byte, skipped []string, err error) {
	cps, err := s.Checkpoints()
	if err != nil {
		return 0, nil, nil, err
	}
	for i := len(cps) - 1; i >= 0; i-- {
		if atOrBefore >= 0 && cps[i].Step > atOrBefore {
			continue
		}
		step, blob, err := readCheckpoint(cps[i].Path)
		if err != nil {
			if errors.Is(err, ErrDamaged) {
				s.markDamaged(cps[i].Name)
			}
			skipped = append(skipped, err.Error())
			continue
		}
		return step, blob, skipped, nil
	}
	where := ""
	if atOrBefore >= 0 {
		where = fmt.Sprintf(" at or before step %d", atOrBefore)
	}
	if len(skipped) > 0 {
		where += fmt.Sprintf(" (%d damaged)", len(skipped))
	}
	return 0, nil, skipped, fmt.Errorf("sessions: session %s (%s): %w%s", s.Manifest.ID, s.Dir, ErrNoCheckpoint, where)
}

func (s *Session) markDamaged(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.damaged == nil {
		s.damaged = map[string]bool{}
	}
	s.damaged[name] = true
}

// Prune deletes checkpoints except the keepLast newest good ones and those
// named in keep (file names or paths, e.g. the best one's). Checkpoints
// known to be damaged are neither counted nor deleted: counting them would
// prune the good checkpoint a resume fell back to, and the user is told to
// delete them. Temporary files are not touched. It needs the lock.
func (s *Session) Prune(keepLast int, keep map[string]bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableLocked("prune checkpoints"); err != nil {
		return err
	}
	if keepLast < 0 {
		return fmt.Errorf("sessions: prune %s: keep count %d is negative", s.Manifest.ID, keepLast)
	}
	names := make(map[string]bool, len(keep))
	for k, v := range keep {
		if v {
			names[filepath.Base(k)] = true
		}
	}
	cps, err := listCheckpoints(s.Dir)
	if err != nil {
		return err
	}
	var errs []error
	removed := false
	good := 0
	for i := len(cps) - 1; i >= 0; i-- {
		c := cps[i]
		if s.damaged[c.Name] {
			continue
		}
		if good++; good <= keepLast || names[c.Name] {
			continue
		}
		if err := os.Remove(c.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = true
	}
	if removed {
		errs = append(errs, syncDir(s.Dir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sessions: prune %s: %w", s.Manifest.ID, err)
	}
	return nil
}
