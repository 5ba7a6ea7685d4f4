package sessions

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ccface/ccface/engine"
)

// chunkSize is how many bytes of whole lines one decoder takes at a time.
const chunkSize = 1 << 20

// chunk is a run of whole lines of the log.
type chunk struct {
	seq       int
	firstLine int // line number of its first line (1-based)
	data      []byte
}

// decoded is a chunk's events and the first line that failed to parse.
type decoded struct {
	events   []engine.Event
	nonBlank int // non-blank lines in the chunk
	bad      *badLine
}

type badLine struct {
	line, size int
	err        error
	before     int  // events of the chunk before it
	followed   bool // a non-blank line follows it within the chunk
}

// readEventsParallel reads r in chunks of whole lines and decodes them on
// up to workers goroutines, keeping the order and the torn-tail rule of
// scanEvents.
func readEventsParallel(r io.Reader, path string, workers int) ([]engine.Event, []string, error) {
	return readEventsChunked(r, path, workers, chunkSize)
}

// readEventsChunked is readEventsParallel with a given chunk size (for tests).
func readEventsChunked(r io.Reader, path string, workers, chunkBytes int) ([]engine.Event, []string, error) {
	workers = max(1, min(workers, 8))
	type job struct {
		c   chunk
		out chan decoded
	}
	jobs := make(chan job, workers)
	order := make(chan chan decoded, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.out <- decodeChunk(j.c)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(order)
		defer close(jobs)
		readErr <- splitChunks(r, chunkBytes, func(c chunk) {
			out := make(chan decoded, 1)
			jobs <- job{c, out}
			order <- out
		})
	}()

	var parts [][]engine.Event // each chunk's events, joined once at the end
	var pending *badLine
	var fail error
	for out := range order {
		d := <-out
		if fail != nil {
			continue // drain
		}
		if pending != nil && d.nonBlank > 0 {
			fail = damagedLine(path, pending)
			continue
		}
		if d.bad == nil {
			parts = append(parts, d.events)
			continue
		}
		parts = append(parts, d.events[:d.bad.before])
		if d.bad.followed {
			fail = damagedLine(path, d.bad)
			continue
		}
		pending = d.bad
	}
	wg.Wait()
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	var events []engine.Event
	if n > 0 {
		events = make([]engine.Event, 0, n)
		for _, p := range parts {
			events = append(events, p...)
		}
	}
	if err := <-readErr; err != nil && fail == nil {
		fail = err
	}
	if fail != nil {
		return events, nil, fail
	}
	var warnings []string
	if pending != nil {
		warnings = append(warnings, tornWarning(path, pending.line, pending.size))
	}
	return events, warnings, nil
}

func damagedLine(path string, b *badLine) error {
	return fmt.Errorf("sessions: %s:%d: damaged event line (%w): the log is corrupt before its end; "+
		"move the file aside, or delete that line to keep the rest", path, b.line, b.err)
}

func tornWarning(path string, line, size int) string {
	return fmt.Sprintf("%s:%d: torn last line (%d bytes) ignored: the run was stopped mid-write", path, line, size)
}

// splitChunks reads r and calls emit with runs of whole lines of about
// size bytes; a last line without a newline ends the last chunk.
func splitChunks(r io.Reader, size int, emit func(chunk)) error {
	seq, line := 0, 1
	var carry []byte
	for {
		buf := make([]byte, len(carry), max(size, 2*len(carry)))
		copy(buf, carry)
		n, err := io.ReadFull(r, buf[len(carry):cap(buf)])
		buf = buf[:len(carry)+n]
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return fmt.Errorf("sessions: read events: %w", err)
		}
		cut := len(buf)
		if !eof {
			cut = bytes.LastIndexByte(buf, '\n') + 1
			if cut == 0 { // one line longer than the buffer: read more of it
				if len(buf) >= maxLine {
					return fmt.Errorf("sessions: line %d longer than %d bytes", line, maxLine)
				}
				carry = buf
				continue
			}
		}
		if cut > 0 {
			emit(chunk{seq: seq, firstLine: line, data: buf[:cut]})
			seq++
			line += bytes.Count(buf[:cut], []byte{'\n'})
		}
		if eof {
			return nil
		}
		carry = buf[cut:]
	}
}

// decodeChunk decodes every line of c.
func decodeChunk(c chunk) decoded {
	var d decoded
	d.events = make([]engine.Event, 0, bytes.Count(c.data, []byte{'\n'})+1)
	data := c.data
	in := make(interner, 64)
	for lineNo := c.firstLine; len(data) > 0; lineNo++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if isBlank(line) {
			continue
		}
		d.nonBlank++
		if d.bad != nil {
			d.bad.followed = true
			continue
		}
		var e engine.Event
		if err := decodeEventIn(line, &e, in); err != nil {
			d.bad = &badLine{line: lineNo, size: len(line), err: err, before: len(d.events)}
			continue
		}
		d.events = append(d.events, e)
	}
	return d
}
