package sessions

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/ccface/ccface/engine"
)

const (
	// writeBuffer is the event log's write buffer: ~1000 point events.
	writeBuffer = 256 << 10
	// readBuffer is the initial line buffer of scanEvents (List); lines may
	// grow to maxLine (eval events carry ROC and CMC curves).
	readBuffer = 1 << 20
	maxLine    = 1 << 30
)

// Append adds events to the end of events.jsonl, one JSON object a line,
// through a buffer: they reach the disk on Flush, Close, WriteCheckpoint,
// or when the buffer fills. Events with a zero Time get the current time.
// It needs the lock. The first Append after Lock cuts off a torn last line
// a killed writer left, and notes it in ccface.log.
func (s *Session) Append(events ...engine.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableLocked("append events"); err != nil {
		return err
	}
	if err := s.openEventsLocked(); err != nil {
		return err
	}
	var now time.Time
	for _, e := range events {
		if e.Time.IsZero() {
			if now.IsZero() {
				now = time.Now()
			}
			e.Time = now
		}
		line, err := marshalEvent(&e)
		if err != nil {
			return fmt.Errorf("sessions: append %s event at step %d to %s: %w", e.Kind, e.Step, s.eventsPath(), err)
		}
		s.ew.Write(line)
		if err := s.ew.WriteByte('\n'); err != nil {
			return fmt.Errorf("sessions: append to %s: %w%s", s.eventsPath(), err, hint(err))
		}
	}
	return nil
}

// Flush writes buffered events to events.jsonl and fsyncs it.
func (s *Session) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked()
}

func (s *Session) flushLocked() error {
	if s.ew == nil {
		return nil
	}
	if err := s.ew.Flush(); err != nil {
		return fmt.Errorf("sessions: flush %s: %w%s", s.eventsPath(), err, hint(err))
	}
	if err := s.ef.Sync(); err != nil {
		return fmt.Errorf("sessions: sync %s: %w%s", s.eventsPath(), err, hint(err))
	}
	return nil
}

func (s *Session) eventsPath() string { return filepath.Join(s.Dir, EventsFile) }

// openEventsLocked opens the log for appending, repairing a torn tail.
func (s *Session) openEventsLocked() error {
	if s.ew != nil {
		return nil
	}
	path := s.eventsPath()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("sessions: open %s: %w%s", path, err, hint(err))
	}
	dropped, err := repairTail(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("sessions: repair the end of %s: %w", path, err)
	}
	if dropped > 0 {
		if lf, err := s.LogFile(); err == nil {
			fmt.Fprintf(lf, "%s sessions: cut a torn last line (%d bytes) off %s, left by a run that was killed mid-write\n",
				time.Now().Format(time.RFC3339), dropped, path)
			lf.Close()
		}
	}
	s.ef = f
	s.ew = bufio.NewWriterSize(f, writeBuffer)
	return nil
}

// closeEventsLocked flushes, fsyncs and closes the log if it is open.
func (s *Session) closeEventsLocked() error {
	if s.ew == nil {
		return nil
	}
	err := s.flushLocked()
	if cerr := s.ef.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("sessions: close %s: %w", s.eventsPath(), cerr)
	}
	s.ef, s.ew = nil, nil
	return err
}

// repairTail makes f end with a complete line before anything is appended:
// an unparsable last line (torn by a crash) is cut off and a complete one
// missing its newline gets one. It returns the bytes cut.
func repairTail(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	if size == 0 {
		return 0, nil
	}
	// Read back from the end until the start of the last line is in view.
	var tail []byte
	for n := int64(64 << 10); ; n *= 4 {
		if n > size {
			n = size
		}
		tail = make([]byte, n)
		if _, err := f.ReadAt(tail, size-n); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		body := tail
		if body[len(body)-1] == '\n' {
			body = body[:len(body)-1]
		}
		if bytes.LastIndexByte(body, '\n') >= 0 || n == size {
			break
		}
	}
	endsNL := tail[len(tail)-1] == '\n'
	body := tail
	if endsNL {
		body = body[:len(body)-1]
	}
	start := bytes.LastIndexByte(body, '\n') + 1 // 0 if the whole file is one line
	last := body[start:]
	if isBlank(last) || json.Valid(bytes.TrimSpace(last)) {
		if !endsNL {
			_, err := f.Write([]byte{'\n'})
			return 0, err
		}
		return 0, nil
	}
	cut := int64(len(tail) - start)
	if err := f.Truncate(size - cut); err != nil {
		return 0, err
	}
	return cut, f.Sync()
}

// isBlank reports whether a line holds nothing but white space and NULs
// (a file system may zero-fill the tail of a file after a power loss).
func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != 0 {
			return false
		}
	}
	return true
}

// ReadEvents reads a session's event log; dir is the session directory or
// the log file itself. A missing log reads as no events. An unparsable last
// line (torn by a crash) is skipped with a warning; an unparsable line
// before the end is an error naming file:line, returned with the events
// read before it.
//
// Big logs are read in chunks of lines decoded in parallel, one decoder per
// CPU; see BenchmarkReadEvents.
func ReadEvents(dir string) (events []engine.Event, warnings []string, err error) {
	path := dir
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		path = filepath.Join(dir, EventsFile)
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("sessions: read events: %w", err)
	}
	defer f.Close()
	return readEventsParallel(f, path, runtime.GOMAXPROCS(0))
}

// scanEvents calls fn for each non-blank line of r. A line fn rejects is a
// torn tail (warn) when no non-blank line follows it, and an error otherwise.
func scanEvents(r io.Reader, path string, fn func(line []byte, lineNo int) error, warn func(string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, readBuffer), maxLine)
	lineNo := 0
	var bad *badLine
	for sc.Scan() {
		lineNo++
		line := sc.Bytes()
		if isBlank(line) {
			continue
		}
		if bad != nil {
			return damagedLine(path, bad)
		}
		if err := fn(line, lineNo); err != nil {
			bad = &badLine{line: lineNo, size: len(line), err: err}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("sessions: %s:%d: line longer than %d bytes: %w", path, lineNo+1, maxLine, err)
		}
		return fmt.Errorf("sessions: read %s: %w", path, err)
	}
	if bad != nil {
		warn(tornWarning(path, bad.line, bad.size))
	}
	return nil
}

// Timeline returns the events that make up a session's history and those
// superseded by a resume; the rule is engine.Timeline, shared with the
// figures and the TUI.
func Timeline(events []engine.Event) (kept, superseded []engine.Event) {
	return engine.Timeline(events)
}

// marshalEvent encodes e as one JSON line (without the newline). Non-finite
// floats, which encoding/json refuses, are written as strings.
func marshalEvent(e *engine.Event) ([]byte, error) {
	b, err := json.Marshal(e)
	var uve *json.UnsupportedValueError
	if err == nil || !errors.As(err, &uve) {
		return b, err
	}
	return json.Marshal(toWire(e))
}

// decodeEvent parses one line into e.
func decodeEvent(line []byte, e *engine.Event) error { return decodeEventIn(line, e, nil) }

// decodeEventIn is decodeEvent sharing repeated strings through in.
func decodeEventIn(line []byte, e *engine.Event, in interner) error {
	if decodeFast(line, e, in) {
		return nil
	}
	err := json.Unmarshal(line, e)
	if err == nil || !(bytes.Contains(line, []byte(`"NaN"`)) || bytes.Contains(line, []byte(`Inf"`))) {
		return err
	}
	var w wireEvent
	if werr := json.Unmarshal(line, &w); werr != nil {
		return err
	}
	*e = w.event()
	return nil
}

// wireEvent is engine.Event with floats that may be non-finite. Its fields
// are in the same order, so both encode "kind" first.
type wireEvent struct {
	Kind    engine.Kind          `json:"kind"`
	Step    int64                `json:"step"`
	Epoch   wireFloat            `json:"epoch"`
	Phase   string               `json:"phase,omitempty"`
	Time    time.Time            `json:"time"`
	Values  map[string]wireFloat `json:"values,omitempty"`
	Curves  map[string]wireCurve `json:"curves,omitempty"`
	Knob    string               `json:"knob,omitempty"`
	Old     string               `json:"old,omitempty"`
	New     string               `json:"new,omitempty"`
	By      string               `json:"by,omitempty"`
	Path    string               `json:"path,omitempty"`
	Message string               `json:"message,omitempty"`
}

type wireCurve struct {
	X []wireFloat `json:"x"`
	Y []wireFloat `json:"y"`
}

type wireFloat float64

func (f wireFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(v)
}

func (f *wireFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = wireFloat(math.NaN())
	case `"+Inf"`, `"Inf"`:
		*f = wireFloat(math.Inf(1))
	case `"-Inf"`:
		*f = wireFloat(math.Inf(-1))
	case "null":
	default:
		var v float64
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*f = wireFloat(v)
	}
	return nil
}

func wireFloats(xs []float64) []wireFloat {
	if xs == nil {
		return nil
	}
	out := make([]wireFloat, len(xs))
	for i, x := range xs {
		out[i] = wireFloat(x)
	}
	return out
}

func plainFloats(xs []wireFloat) []float64 {
	if xs == nil {
		return nil
	}
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

func toWire(e *engine.Event) wireEvent {
	w := wireEvent{Kind: e.Kind, Step: e.Step, Epoch: wireFloat(e.Epoch), Phase: e.Phase, Time: e.Time,
		Knob: e.Knob, Old: e.Old, New: e.New, By: e.By, Path: e.Path, Message: e.Message}
	if e.Values != nil {
		w.Values = make(map[string]wireFloat, len(e.Values))
		for k, v := range e.Values {
			w.Values[k] = wireFloat(v)
		}
	}
	if e.Curves != nil {
		w.Curves = make(map[string]wireCurve, len(e.Curves))
		for k, c := range e.Curves {
			w.Curves[k] = wireCurve{X: wireFloats(c.X), Y: wireFloats(c.Y)}
		}
	}
	return w
}

func (w wireEvent) event() engine.Event {
	e := engine.Event{Kind: w.Kind, Step: w.Step, Epoch: float64(w.Epoch), Phase: w.Phase, Time: w.Time,
		Knob: w.Knob, Old: w.Old, New: w.New, By: w.By, Path: w.Path, Message: w.Message}
	if w.Values != nil {
		e.Values = make(map[string]float64, len(w.Values))
		for k, v := range w.Values {
			e.Values[k] = float64(v)
		}
	}
	if w.Curves != nil {
		e.Curves = make(map[string]engine.Curve, len(w.Curves))
		for k, c := range w.Curves {
			e.Curves[k] = engine.Curve{X: plainFloats(c.X), Y: plainFloats(c.Y)}
		}
	}
	return e
}
