package sessions

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ccface/ccface/engine"
)

// RunLabels names the runs of a figure of several sessions by what sets
// them apart, as a reader compares them: the knob values they started with
// that differ between them, in the knob's own format, and the step a fork
// started from ("margin=0.3 @1344"). A session nothing sets apart, or one
// alone, keeps its name.
func RunLabels(ss []*Session) []string {
	out := make([]string, len(ss))
	values := make([]map[string]string, len(ss))
	for i, s := range ss {
		values[i] = engine.Values(&s.Manifest.Config)
		out[i] = s.Title()
	}
	if len(ss) < 2 {
		return out
	}
	for i, s := range ss {
		var parts []string
		for _, k := range engine.Knobs {
			for j := range ss {
				if !k.Same(values[i][k.Name], values[j][k.Name]) {
					parts = append(parts, k.Name+"="+values[i][k.Name])
					break
				}
			}
		}
		if p := s.Manifest.Parent; p != nil {
			parts = append(parts, fmt.Sprintf("@%d", p.Step))
		}
		if len(parts) > 0 {
			out[i] = strings.Join(parts, " ")
		}
	}
	return out
}

// Title is the session's own name, or its ID when it has none.
func (s *Session) Title() string {
	if s.Manifest.Name != "" {
		return s.Manifest.Name
	}
	return s.Manifest.ID
}

// Recorded is a session's recorded run as a view draws it: its title and
// its timeline (what a resume kept, so a killed and resumed run is one
// curve).
type Recorded struct {
	Title  string
	Events []engine.Event
}

// ReadRecorded reads the recorded runs of sessions ids under root, in
// order. A session that cannot be read, or has recorded nothing, is left
// out; each warning starts with the ID it is about.
func ReadRecorded(root string, ids []string) (runs []Recorded, warnings []string) {
	for _, id := range ids {
		sess, err := Open(root, id)
		if err == nil {
			var events []engine.Event
			var damaged []string
			events, damaged, err = ReadEvents(sess.Dir)
			for _, w := range damaged {
				warnings = append(warnings, id+": "+w)
			}
			if err == nil && len(events) == 0 {
				err = errors.New("no recorded events")
			}
			if err == nil {
				kept, _ := Timeline(events)
				runs = append(runs, Recorded{Title: sess.Title(), Events: kept})
				continue
			}
		}
		warnings = append(warnings, fmt.Sprintf("%s left out: %v", id, err))
	}
	return runs, warnings
}

// ReadLogs opens the sessions ids under root and reads each one's whole
// event log, for figures that overlay them (they apply Timeline
// themselves). warnings are the logs' damaged lines, from the sessions
// read before any error.
func ReadLogs(root string, ids []string) (opened []*Session, logs [][]engine.Event, warnings []string, err error) {
	for _, id := range ids {
		s, err := Open(root, id)
		if err != nil {
			return nil, nil, warnings, err
		}
		events, damaged, err := ReadEvents(s.Dir)
		if err != nil {
			return nil, nil, warnings, err
		}
		warnings = append(warnings, damaged...)
		opened, logs = append(opened, s), append(logs, events)
	}
	return opened, logs, warnings, nil
}
