package serve

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Log is a server log written to several places: the terminal, then also
// the session's serve.log once the session exists (Add). It is safe for
// concurrent use; a place that fails to take a line does not stop the
// others.
type Log struct {
	mu sync.Mutex
	ws []io.Writer
}

// NewLog writes to ws.
func NewLog(ws ...io.Writer) *Log { return &Log{ws: ws} }

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.ws {
		_, _ = w.Write(p)
	}
	return len(p), nil
}

// Add writes the log to w too from now on.
func (l *Log) Add(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ws = append(l.ws, w)
}

// Printf writes one timestamped line, as the server writes its own.
func (l *Log) Printf(format string, args ...any) { writeLogLine(l, format, args...) }

// writeLogLine is the one format of a server log line.
func writeLogLine(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "%s %s\n", time.Now().Format("2006-01-02 15:04:05"), fmt.Sprintf(format, args...))
}
