package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// RemoteScreens is what a run served over SSH needs of the server
// (tui/serve's *Server), named here so that the lifecycle imports no UI.
type RemoteScreens interface {
	Notify(text string, isErr bool)
	Close() error
	Shutdown(ctx context.Context, farewell string) error
}

// ServeSpec is how a run is served (`ccface serve`).
type ServeSpec struct {
	Screens RemoteScreens
	Serve   func() error                     // serves the clients until the server closes
	Log     func(format string, args ...any) // the server's log
	Out     io.Writer                        // progress lines like --headless, and what the server does
	Linger  time.Duration                    // after the run ends, keep serving its final screen this long
}

// Serve follows the run while spec's server shows it, until the run has
// ended and spec.Linger has passed, or a stop signal stops it (with a
// final checkpoint; a second signal gives up waiting), or the server
// fails. Then it says farewell to the clients and finishes the run.
func (r *Run) Serve(spec ServeSpec) error {
	srv, stdout, sess := spec.Screens, spec.Out, r.sess
	progress := r.printProgress(stdout, 10*time.Second)
	serveErr := make(chan error, 1)
	go func() { serveErr <- spec.Serve() }()

	sig, stopSig := StopSignals()
	defer stopSig()
	// stopRun stops the engine and waits for its final checkpoint; a second
	// signal gives up waiting.
	stopRun := func(by, notice string) error {
		srv.Notify(notice, true)
		r.Stop(by)
		select {
		case <-progress.ended():
			return nil
		case s := <-sig:
			srv.Close()
			return fmt.Errorf("%s again: exiting without waiting for the final checkpoint; session %s", s, sess.Dir)
		}
	}
	var failure error
	select {
	case s := <-sig:
		spec.Log("%s: stopping the run at the next step (final checkpoint)", s)
		fmt.Fprintf(stdout, "\n%s: stopping at the next step boundary, then closing the server (%s again exits at once)...\n", s, s)
		if err := stopRun("server ("+s.String()+")", "the server is shutting down: stopping the run at the next step (final checkpoint)…"); err != nil {
			return err
		}
	case err := <-serveErr:
		failure = fmt.Errorf("serve: %w", err)
		spec.Log("%v: stopping the run", failure)
		if err := stopRun("server (error)", "the server failed: stopping the run"); err != nil {
			return err
		}
	case <-progress.ended():
		if spec.Linger > 0 {
			srv.Notify(fmt.Sprintf("the run has ended; this server closes in %s (q detaches)", spec.Linger), false)
			fmt.Fprintf(stdout, "the run has ended; serving its final screen for %s (Ctrl-C closes now)\n", spec.Linger)
			select {
			case <-time.After(spec.Linger):
			case <-sig:
			}
		}
	}
	<-progress.ended()
	farewell := fmt.Sprintf("the server has closed: the run %s; session %s", progress.outcome(), sess.Manifest.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx, farewell); err != nil && !errors.Is(err, net.ErrClosed) {
		spec.Log("shutdown: %v", err)
	}
	spec.Log("closed: %s", farewell)
	if err := r.Finish(); err != nil && failure == nil {
		failure = err
	}
	fmt.Fprintf(stdout, "session: %s\n", sess.Dir)
	if failure == nil {
		failure = progress.failure()
	}
	return failure
}
