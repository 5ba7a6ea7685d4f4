package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// KeepGoingOnBrokenPipe makes a write to a closed pipe (`ccface … | tee log`
// after tee died of the same Ctrl-C) fail with EPIPE instead of killing the
// process with SIGPIPE before its final checkpoint. Notify rather than
// Ignore: an ignored SIGPIPE would be inherited by the programs ccface runs
// (sbatch, kubectl), which rely on its default action.
func KeepGoingOnBrokenPipe() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE) // nobody reads: the signal is only to be caught
}

// DropAfterBrokenPipe passes writes to w until one fails with a broken
// pipe; from then on it drops them and reports success, so output that
// nobody reads any more never stops the caller on its way to the final
// checkpoint.
func DropAfterBrokenPipe(w io.Writer) io.Writer { return &pipeGuard{w: w} }

type pipeGuard struct {
	mu     sync.Mutex
	w      io.Writer
	broken bool
}

func (g *pipeGuard) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.broken {
		return len(p), nil
	}
	n, err := g.w.Write(p)
	if errors.Is(err, syscall.EPIPE) {
		g.broken = true
		return len(p), nil
	}
	return n, err
}

// sameRequest is how close repeated stop signals must be to count as one:
// GNU timeout signals the process and then its whole group, and a terminal
// may deliver Ctrl-C to several of a pipeline's processes at once.
const sameRequest = time.Second

// stopSignals delivers SIGINT and SIGTERM, with repeats within sameRequest
// of the last one delivered dropped. stop releases the signals and closes
// requests.
func stopSignals() (requests <-chan os.Signal, stop func()) {
	raw := make(chan os.Signal, 4)
	signal.Notify(raw, os.Interrupt, syscall.SIGTERM)
	out := make(chan os.Signal, 2)
	done := make(chan struct{})
	go func() {
		defer close(out)
		var last time.Time
		for {
			select {
			case s := <-raw:
				if now := time.Now(); now.Sub(last) >= sameRequest {
					last = now
					select {
					case out <- s:
					default: // two requests already waiting: a third adds nothing
					}
				}
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return out, func() {
		once.Do(func() {
			signal.Stop(raw)
			close(done)
		})
	}
}

// stopper stops a headless run on a signal: the first request stops it at
// the next step boundary with a final checkpoint (or, while it is still
// opening, as soon as it starts); another one exits at once.
type stopper struct {
	w       io.Writer
	release func()
	mu      sync.Mutex
	run     *Run
	asked   bool
}

// stopOnSignal starts listening; call attach once the run is open, and
// release when it has ended.
func stopOnSignal(w io.Writer) *stopper {
	requests, release := stopSignals()
	s := &stopper{w: w, release: release}
	go func() {
		if _, ok := <-requests; !ok {
			return
		}
		s.mu.Lock()
		s.asked = true
		if s.run != nil {
			fmt.Fprintln(w, "\nstopping at the next step boundary (Ctrl-C again to exit at once)...")
			s.run.Stop("signal")
		} else {
			fmt.Fprintln(w, "\nstopping as soon as the run has started (Ctrl-C again to exit at once)...")
		}
		s.mu.Unlock()
		if _, ok := <-requests; !ok {
			return
		}
		s.mu.Lock()
		if s.run != nil {
			fmt.Fprintf(w, "exiting without a final checkpoint; session: %s\n", s.run.Session().Dir)
		} else {
			fmt.Fprintln(w, "exiting before the run started")
		}
		os.Exit(130)
	}()
	return s
}

// attach hands the opened run to the stopper, stopping it at once if a
// signal came while it was opening.
func (s *stopper) attach(r *Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run = r
	if s.asked {
		r.Stop("signal")
	}
}

// SignalContext is cancelled on the first stop request (a comparison stops
// its current run with its checkpoint; finished runs are reused by a
// rerun); a second request exits at once, as in a headless run. stop
// releases the signals.
func SignalContext(w io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	requests, release := stopSignals()
	go func() {
		if _, ok := <-requests; !ok {
			return
		}
		fmt.Fprintln(w, "\nstopping the current run at its next step boundary (Ctrl-C again to exit at once)...")
		cancel()
		if _, ok := <-requests; ok {
			fmt.Fprintln(w, "exiting without a final checkpoint")
			os.Exit(130)
		}
	}()
	return ctx, func() { release(); cancel() }
}
