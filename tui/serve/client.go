package serve

import (
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"github.com/ccface/ccface/engine"
)

// client is one connected SSH session.
type client struct {
	id   int
	sess ssh.Session
	role Role
	by   string
	done chan struct{} // closed when the session handler returns

	input   atomic.Int64 // unix nanos of the last key press (or connect)
	writing atomic.Int64 // unix nanos a pending write to the terminal began; 0: none

	mu       sync.Mutex
	prog     *tea.Program
	cancel   func() // the hub subscription
	farewell string // printed after the TUI closes
	why      string // for the server log
	ended    bool
}

func newClient(id int, sess ssh.Session, role Role, by string) *client {
	c := &client{id: id, sess: sess, role: role, by: by, done: make(chan struct{})}
	c.input.Store(time.Now().UnixNano())
	return c
}

// attach records the client's program and subscription; false if the
// client was already told to leave (then the subscription is released).
func (c *client) attach(p *tea.Program, cancel func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended || c.farewell != "" {
		cancel()
		return false
	}
	c.prog, c.cancel = p, cancel
	return true
}

// send delivers msg to the client's program without waiting: a program
// whose terminal stopped reading may not take it for a while (Send returns
// once the program has ended, so the goroutine cannot leak past it).
func (c *client) send(msg tea.Msg) {
	c.mu.Lock()
	p := c.prog
	c.mu.Unlock()
	if p != nil {
		go p.Send(msg)
	}
}

// kick asks the client's program to quit with farewell, and closes its
// connection if it has not ended within grace.
func (c *client) kick(farewell string, grace time.Duration) {
	c.mu.Lock()
	if c.farewell == "" {
		c.farewell = farewell
	}
	if c.why == "" {
		c.why = farewell
	}
	p := c.prog
	c.mu.Unlock()
	if p != nil {
		go p.Quit()
	}
	time.AfterFunc(grace, func() {
		select {
		case <-c.done:
		default:
			c.closeConn()
		}
	})
}

// closeConn closes the client's SSH connection: every pending write fails,
// the session's context ends and the bubbletea middleware quits the program.
func (c *client) closeConn() {
	if conn, ok := c.sess.Context().Value(ssh.ContextKeyConn).(*gossh.ServerConn); ok {
		conn.Close()
	}
}

func (c *client) setReason(why string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.why == "" {
		c.why = why
	}
}

func (c *client) reason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.why == "" {
		return "left"
	}
	return c.why
}

func (c *client) farewellText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.farewell
}

// end releases the subscription; the session is over.
func (c *client) end() {
	c.mu.Lock()
	cancel := c.cancel
	c.ended, c.cancel = true, nil
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	close(c.done)
}

func (c *client) lastInput() time.Time { return time.Unix(0, c.input.Load()) }

func (c *client) writeBlockedSince() time.Time {
	if t := c.writing.Load(); t != 0 {
		return time.Unix(0, t)
	}
	return time.Time{}
}

// inputReader notes every key press for the idle timeout.
type inputReader struct {
	r io.Reader
	c *client
}

func (in *inputReader) Read(p []byte) (int, error) {
	n, err := in.r.Read(p)
	if n > 0 {
		in.c.input.Store(time.Now().UnixNano())
	}
	return n, err
}

// outputWriter notes when a write to the terminal blocks, for the stall
// timeout.
type outputWriter struct {
	w io.Writer
	c *client
}

func (out *outputWriter) Write(p []byte) (int, error) {
	out.c.writing.Store(time.Now().UnixNano())
	defer out.c.writing.Store(0)
	return out.w.Write(p)
}

// errReadOnly is what a viewer's control call returns.
var errReadOnly = errors.New("read-only viewer: only operator keys (--authorized-keys) may steer the run")

// clientTrainer is the Trainer a client's TUI drives: its own hub view,
// with every control call checked against the client's role, stamped with
// the client's identity (whatever By the caller passed) and logged.
type clientTrainer struct {
	engine.Trainer
	c      *client
	events <-chan []engine.Event // the view's events, throttled
	logf   func(format string, args ...any)
}

// Events is the client's own stream; see throttle.
func (t *clientTrainer) Events() <-chan []engine.Event {
	if t.events == nil {
		return t.Trainer.Events()
	}
	return t.events
}

func (t *clientTrainer) do(what string, call func(by string) error) error {
	if t.c.role != Operator {
		t.logf("%s refused (viewer): %s", t.c.by, what)
		return errReadOnly
	}
	err := call(t.c.by)
	if err != nil {
		t.logf("%s: %s refused: %v", t.c.by, what, err)
	} else {
		t.logf("%s: %s", t.c.by, what)
	}
	return err
}

func (t *clientTrainer) SetKnob(name, value, _ string) error {
	return t.do("set "+name+"="+value, func(by string) error { return t.Trainer.SetKnob(name, value, by) })
}
func (t *clientTrainer) Pause(string) error      { return t.do("pause", t.Trainer.Pause) }
func (t *clientTrainer) Resume(string) error     { return t.do("resume", t.Trainer.Resume) }
func (t *clientTrainer) Checkpoint(string) error { return t.do("checkpoint", t.Trainer.Checkpoint) }
func (t *clientTrainer) Eval(string) error       { return t.do("evaluate", t.Trainer.Eval) }
func (t *clientTrainer) Stop(string) {
	_ = t.do("stop the run", func(by string) error { t.Trainer.Stop(by); return nil })
}

// newRenderer styles one client's screen from its terminal type. Unlike
// wish's bubbletea.MakeRenderer it does not query the terminal's
// background colour: that query reads the session's input for up to two
// seconds and, on a terminal that does not answer, its reader goes on to
// swallow the client's first key press. The TUI's colours are fixed
// ANSI-256 indices chosen for either background, so nothing is lost.
func newRenderer(sess ssh.Session) *lipgloss.Renderer {
	pty, _, ok := sess.Pty()
	if !ok || pty.Term == "" || pty.Term == "dumb" {
		return lipgloss.NewRenderer(sess, termenv.WithProfile(termenv.Ascii))
	}
	env := environ(append(sess.Environ(), "TERM="+pty.Term))
	r := lipgloss.NewRenderer(sess, termenv.WithEnvironment(env), termenv.WithUnsafe(), termenv.WithColorCache(true))
	r.SetHasDarkBackground(true)
	return r
}

// environ is a session's environment for termenv's colour detection.
type environ []string

func (e environ) Environ() []string { return e }

func (e environ) Getenv(k string) string {
	for i := len(e) - 1; i >= 0; i-- { // the last value wins, as in a shell
		if v, ok := strings.CutPrefix(e[i], k+"="); ok {
			return v
		}
	}
	return ""
}
