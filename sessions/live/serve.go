package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"
)

// RemoteScreens is what a run served over SSH needs of the server
// (tui/serve's *Server), named here so that the lifecycle imports no UI.
type RemoteScreens interface {
	Notify(text string, isErr bool)
	Close() error
	Shutdown(ctx context.Context, farewell string) error
}

// ServerLog is the server's log (tui/serve's *Log).
type ServerLog interface {
	Add(w io.Writer) // log to w too from now on
	Printf(format string, args ...any)
}

// ServeSpec is how a run is served (`ccface serve`).
type ServeSpec struct {
	Screens RemoteScreens
	Addr    net.Addr          // where the server listens
	Serve   func() error      // serves the clients until the server closes
	Banner  func(w io.Writer) // tells the operator at this terminal how to connect
	Log     ServerLog         // the terminal's; Serve adds the session's serve.log
	Out     io.Writer         // progress lines like --headless, and what the server does
	Warn    io.Writer         // a serve.log that cannot be written
	Linger  time.Duration     // after the run ends, keep serving its final screen this long
}

// Serve writes the server's log to the session's serve.log too, says on
// spec.Out where the session is and how to connect, and follows the run
// while spec's server shows it, until the run has ended and spec.Linger
// has passed, or a stop signal stops it (with a final checkpoint; a second
// signal gives up waiting), or the server fails. Then it says farewell to
// the clients and finishes the run.
func (r *Run) Serve(spec ServeSpec) error {
	srv, stdout, sess := spec.Screens, spec.Out, r.sess
	if lf, err := os.OpenFile(filepath.Join(sess.Dir, "serve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
		defer lf.Close()
		spec.Log.Add(lf)
	} else {
		fmt.Fprintf(spec.Warn, "warning: no serve.log in the session: %v\n", err)
	}
	fmt.Fprintf(stdout, "session %s\n", sess.Dir)
	spec.Banner(stdout)
	spec.Log.Printf("serving %s on %s", sess.Dir, spec.Addr)

	progress := r.printProgress(stdout, 10*time.Second)
	serveErr := make(chan error, 1)
	go func() { serveErr <- spec.Serve() }()

	sig, stopSig := stopSignals()
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
		spec.Log.Printf("%s: stopping the run at the next step (final checkpoint)", s)
		fmt.Fprintf(stdout, "\n%s: stopping at the next step boundary, then closing the server (%s again exits at once)...\n", s, s)
		if err := stopRun("server ("+s.String()+")", "the server is shutting down: stopping the run at the next step (final checkpoint)…"); err != nil {
			return err
		}
	case err := <-serveErr:
		failure = fmt.Errorf("serve: %w", err)
		spec.Log.Printf("%v: stopping the run", failure)
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
		spec.Log.Printf("shutdown: %v", err)
	}
	spec.Log.Printf("closed: %s", farewell)
	if err := r.Finish(); err != nil && failure == nil {
		failure = err
	}
	fmt.Fprintf(stdout, "session: %s\n", sess.Dir)
	if failure == nil {
		failure = progress.failure()
	}
	return failure
}
