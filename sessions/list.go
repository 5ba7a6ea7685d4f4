package sessions

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ccface/ccface/engine"
)

// Session states in a Summary.
const (
	StateRunning  = "running"  // a live process holds the lock
	StateFinished = "finished" // ended with a done event saying "finished"
	StateStopped  = "stopped"  // ended with another done event (stopped by the user)
	StateFailed   = "failed"   // ended with a failed event (the engine reported an error)
	StateCrashed  = "crashed"  // no end event and nobody holds the lock: killed, or never started
)

// Summary is one row of `ccface sessions`.
type Summary struct {
	ID, Name, Dir string
	Created       time.Time
	Data          string // data source: "synth" or the image folder
	Method        string
	Phase         string  // phase of the last event that names one
	Step          int64   // step of the last event
	TotalSteps    int64   // steps of the whole run, from its last start event; 0 before it starts
	BestLRRank1   float64 // best rank-1 at the smallest LR size evaluated; -1 if none
	BestLRSize    int     // that LR size in pixels; 0 if none
	State         string  // one of the State constants
	Parent        string  // parent session ID when forked
	ParentStep    int64   // the parent's checkpoint step the fork started from
}

// List summarises every session under root, oldest first. A directory
// that cannot be read as a session is skipped and named in warnings, as is
// a damaged event log (its session is still listed). A missing root is an
// empty list.
func List(root string) ([]Summary, []string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("sessions: list %s: %w", root, err)
	}
	var sums []Summary
	var warnings []string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		m, err := readManifest(filepath.Join(dir, ManifestFile))
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("skipped: %v", err))
			continue
		}
		sum, err := summarize(dir, m)
		if err != nil {
			warnings = append(warnings, err.Error())
		}
		sums = append(sums, sum)
	}
	sort.Slice(sums, func(i, j int) bool {
		if !sums[i].Created.Equal(sums[j].Created) {
			return sums[i].Created.Before(sums[j].Created)
		}
		return sums[i].ID < sums[j].ID
	})
	return sums, warnings, nil
}

// pointPrefix starts every encoded point event: "kind" is the first field.
var pointPrefix = []byte(`{"kind":"point"`)

// summarize reads what a Summary needs from a session's log. Point events,
// the bulk of a log, are not decoded except the last one.
func summarize(dir string, m Manifest) (Summary, error) {
	s := Summary{ID: m.ID, Name: m.Name, Dir: dir, Created: m.Created, Data: m.Config.Data.Source,
		Method: m.Method, BestLRRank1: -1}
	if s.Method == "" {
		s.Method = m.Config.Method
	}
	if m.Parent != nil {
		s.Parent, s.ParentStep = m.Parent.ID, m.Parent.Step
	}
	var (
		others     []engine.Event // every non-point event, in order
		otherLines []int          // their line numbers
		lastPoint  []byte         // the last point line and the one before it, in
		prevPoint  []byte         // case the last was torn by a crash
		pointLine  int
		prevLine   int
	)
	path := filepath.Join(dir, EventsFile)
	var readErr error
	if f, err := os.Open(path); err == nil {
		readErr = scanEvents(f, path, func(line []byte, lineNo int) error {
			if bytes.HasPrefix(line, pointPrefix) {
				prevPoint, lastPoint = lastPoint, append(prevPoint[:0], line...)
				prevLine, pointLine = pointLine, lineNo
				return nil
			}
			var e engine.Event
			if err := decodeEvent(line, &e); err != nil {
				return err
			}
			others = append(others, e)
			otherLines = append(otherLines, lineNo)
			return nil
		}, func(string) {})
		f.Close()
	} else if !errors.Is(err, os.ErrNotExist) {
		readErr = fmt.Errorf("sessions: read events: %w", err)
	}
	var point engine.Event
	havePoint := lastPoint != nil && decodeEvent(lastPoint, &point) == nil
	if !havePoint && prevPoint != nil {
		point, pointLine = engine.Event{}, prevLine
		havePoint = decodeEvent(prevPoint, &point) == nil
	}
	n := len(others)
	if n > 0 && (!havePoint || otherLines[n-1] > pointLine) {
		s.Step = others[n-1].Step
	} else if havePoint {
		s.Step = point.Step
	}
	phaseLine := 0
	for i := n - 1; i >= 0; i-- {
		if others[i].Phase != "" {
			s.Phase, phaseLine = others[i].Phase, otherLines[i]
			break
		}
	}
	if havePoint && point.Phase != "" && pointLine > phaseLine {
		s.Phase = point.Phase
	}
	for i := n - 1; i >= 0; i-- {
		if others[i].Kind == engine.KindStart {
			s.TotalSteps = int64(others[i].Values[engine.MTotalSteps])
			break
		}
	}
	if v, px, _, ok := BestLRRank1(others); ok {
		s.BestLRRank1, s.BestLRSize = v, px
	}
	s.State = StateCrashed
	for i := len(others) - 1; i >= 0; i-- {
		e := others[i]
		if e.Kind == engine.KindStart {
			break
		}
		if e.Kind == engine.KindFailed {
			s.State = StateFailed
			break
		}
		if e.Kind == engine.KindDone {
			s.State = StateStopped
			if strings.HasPrefix(e.Message, "finished") {
				s.State = StateFinished
			}
			break
		}
	}
	if lockHeld(dir) {
		s.State = StateRunning
	}
	return s, readErr
}

// BestLRRank1 returns the best rank-1 identification rate at the smallest
// LR probe size found among the eval events (keys like "lr8.rank1", see
// engine.EvalKey and engine.LRView), with that size and the step of the
// eval that reached it. ok is false when no eval event carries such a key.
func BestLRRank1(events []engine.Event) (best float64, px int, step int64, ok bool) {
	px = -1
	for _, e := range events {
		if e.Kind != engine.KindEval {
			continue
		}
		for k, v := range e.Values {
			n, found := lrRank1Size(k)
			if !found || v != v { // skip NaN
				continue
			}
			if px < 0 || n < px || (n == px && v > best) {
				px, best, step = n, v, e.Step
			}
		}
	}
	if px < 0 {
		return -1, 0, 0, false
	}
	return best, px, step, true
}

// lrRank1Size parses "lr<N>.rank1" into N.
func lrRank1Size(key string) (int, bool) {
	view, metric, ok := strings.Cut(key, ".")
	if !ok || metric != engine.ERank1 || !strings.HasPrefix(view, "lr") {
		return 0, false
	}
	n, err := strconv.Atoi(view[2:])
	if err != nil || n <= 0 || engine.LRView(n) != view {
		return 0, false
	}
	return n, true
}

// FormatList renders summaries as the aligned table of `ccface sessions`.
// Rank-1 values are shown as percentages (the engine reports rates in 0..1).
func FormatList(sums []Summary) string {
	if len(sums) == 0 {
		return "no sessions yet: `ccface train` creates one\n"
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED\tDATA\tMETHOD\tPHASE\tSTEP\tBEST LR R1\tSTATE\tPARENT")
	for _, s := range sums {
		best := "-"
		if s.BestLRSize > 0 && s.BestLRRank1 >= 0 {
			v := s.BestLRRank1
			if v <= 1 {
				best = fmt.Sprintf("%.1f%% @%dpx", 100*v, s.BestLRSize)
			} else {
				best = fmt.Sprintf("%.3g @%dpx", v, s.BestLRSize)
			}
		}
		parent := "-"
		if s.Parent != "" {
			parent = fmt.Sprintf("%s@%d", s.Parent, s.ParentStep)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n",
			s.ID, dash(s.Name), s.Created.Local().Format("2006-01-02 15:04"), dash(dataLabel(s.Data)),
			dash(s.Method), dash(s.Phase), s.Step, best, s.State, parent)
	}
	tw.Flush()
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// dataLabel shortens an image-folder path to its last element.
func dataLabel(src string) string {
	if src == "" || src == "synth" {
		return src
	}
	return filepath.Base(filepath.Clean(src))
}
