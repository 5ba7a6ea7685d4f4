package sessions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/ccface/ccface/engine"
)

// readSequential is the reference reader: scanEvents line by line.
func readSequential(data []byte) ([]engine.Event, []string, error) {
	var events []engine.Event
	var warnings []string
	err := scanEvents(bytes.NewReader(data), "log", func(line []byte, _ int) error {
		var e engine.Event
		if err := decodeEvent(line, &e); err != nil {
			return err
		}
		events = append(events, e)
		return nil
	}, func(w string) { warnings = append(warnings, w) })
	return events, warnings, err
}

// TestParallelReadMatchesSequential damages logs in random ways and checks
// that chunked parallel decoding, at chunk sizes that split lines every
// which way, gives the sequential reader's events, warnings and errors.
func TestParallelReadMatchesSequential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		var buf bytes.Buffer
		n := rng.IntN(40)
		for i := 0; i < n; i++ {
			e := point(int64(i), float64(i))
			if rng.IntN(10) == 0 {
				e = engine.Event{Kind: engine.KindEval, Step: int64(i), Curves: map[string]engine.Curve{"roc.hr": {X: []float64{0, 1}, Y: []float64{0, 1}}}}
			}
			line, _ := json.Marshal(e)
			buf.Write(line)
			buf.WriteByte('\n')
			if rng.IntN(8) == 0 {
				buf.WriteString("\n  \n")
			}
		}
		data := buf.Bytes()
		switch rng.IntN(4) {
		case 0: // torn tail
			if len(data) > 0 {
				data = data[:len(data)-1-rng.IntN(min(len(data), 120))]
			}
		case 1: // a flipped byte somewhere
			if len(data) > 0 {
				data[rng.IntN(len(data))] = '#'
			}
		case 2: // garbage inserted as a line
			at := bytes.IndexByte(data, '\n') + 1
			data = append(data[:at:at], append([]byte("{garbage\n"), data[at:]...)...)
		}
		wantE, wantW, wantErr := readSequential(data)
		for _, chunk := range []int{16, 100, 333, 1 << 20} {
			for _, workers := range []int{1, 3} {
				gotE, gotW, gotErr := readEventsChunked(bytes.NewReader(data), "log", workers, chunk)
				what := fmt.Sprintf("trial %d, chunk %d, %d workers", trial, chunk, workers)
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
					t.Fatalf("%s: error %v, want %v", what, gotErr, wantErr)
				}
				if !reflect.DeepEqual(gotW, wantW) {
					t.Fatalf("%s: warnings %q, want %q", what, gotW, wantW)
				}
				if len(gotE) != len(wantE) || len(wantE) > 0 && !reflect.DeepEqual(gotE, wantE) {
					t.Fatalf("%s: %d events, want %d", what, len(gotE), len(wantE))
				}
			}
		}
	}
}

func TestReadEventsLongLine(t *testing.T) {
	e := engine.Event{Kind: engine.KindEval, Message: strings.Repeat("x", 3000)}
	line, _ := json.Marshal(e)
	data := append(append(line, '\n'), line...)
	evs, warns, err := readEventsChunked(bytes.NewReader(data), "log", 2, 64)
	if err != nil || len(warns) != 0 || len(evs) != 2 || evs[1].Message != e.Message {
		t.Fatalf("%d %q %v", len(evs), warns, err)
	}
}
