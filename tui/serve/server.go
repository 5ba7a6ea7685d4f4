package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/tui"
)

// Source hands out one client's view of the run: *engine.Hub. cancel
// releases the view; its Events channel then closes.
type Source interface {
	Subscribe() (tr engine.Trainer, cancel func())
}

// Config configures a Server. Zero durations take the defaults below.
type Config struct {
	// HostKey is the server's host key (LoadOrCreateHostKey).
	HostKey gossh.Signer
	// OperatorKeys and ViewerKeys are authorized_keys files; at least one
	// must hold a key.
	OperatorKeys, ViewerKeys string
	// MaxClients bounds concurrent clients (default 8); one more is told
	// the server is full and disconnected.
	MaxClients int
	// IdleTimeout disconnects a client after this long without a key press;
	// 0 never does. It warns the client a minute (or a quarter) before.
	IdleTimeout time.Duration
	// StallTimeout disconnects a client whose terminal has not taken a write
	// for this long (default 30s): suspended, or its network is gone.
	StallTimeout time.Duration
	// Redraw is how often a client's screen follows the run (default
	// 500ms): its events are merged and handed to its TUI at most this
	// often, and redrawing is most of what a client costs the server (see
	// BenchmarkServeClients). Key presses are answered at once.
	Redraw time.Duration
	// HandshakeTimeout closes a connection that has not authenticated in
	// this long (default 30s).
	HandshakeTimeout time.Duration
	// Log receives one line per connection, refusal, disconnect and control
	// action, with the client's identity; nil discards them.
	Log io.Writer
}

const (
	defaultMaxClients   = 8
	defaultStallTimeout = 30 * time.Second
	defaultRedraw       = 500 * time.Millisecond
	// quitGrace is how long a client's program has to quit on its own
	// before its connection is closed under it.
	quitGrace = 2 * time.Second
	// defaultHandshakeTimeout bounds how long a connection may take to
	// authenticate; x/crypto/ssh sets no deadline of its own.
	defaultHandshakeTimeout = 30 * time.Second
)

// Server serves one run to many SSH clients.
type Server struct {
	cfg   Config
	keys  *keyring
	ssh   *ssh.Server
	src   Source
	path  string // the session, shown in every status bar
	logMu sync.Mutex

	mu      sync.Mutex
	clients map[*client]struct{}
	closing string // farewell once Shutdown began
	gone    chan struct{}
	nextID  int
	served  bool
}

// New checks cfg and loads the keys; Serve starts serving.
func New(cfg Config) (*Server, error) {
	if cfg.HostKey == nil {
		return nil, errors.New("serve: no host key")
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = defaultMaxClients
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = defaultStallTimeout
	}
	if cfg.Redraw <= 0 {
		cfg.Redraw = defaultRedraw
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = defaultHandshakeTimeout
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	s := &Server{cfg: cfg, clients: map[*client]struct{}{}, gone: make(chan struct{}, 1)}
	keys, err := newKeyring(cfg.OperatorKeys, cfg.ViewerKeys, s.logf)
	if err != nil {
		return nil, err
	}
	s.keys = keys
	s.ssh, err = wish.NewServer(
		func(srv *ssh.Server) error { srv.AddHostKey(cfg.HostKey); return nil }, // before NewServer's default key
		wish.WithVersion("ccface"),
		wish.WithPublicKeyAuth(s.authorize),
		wish.WithMiddleware(s.admit),
		func(srv *ssh.Server) error {
			srv.ConnectionFailedCallback = func(conn net.Conn, err error) {
				s.logf("connection from %s refused: %v", conn.RemoteAddr(), err)
			}
			// A connection that has not authenticated in time is closed
			// (the server sets ContextKeyConn once it has).
			srv.ConnCallback = func(ctx ssh.Context, conn net.Conn) net.Conn {
				time.AfterFunc(cfg.HandshakeTimeout, func() {
					if ctx.Value(ssh.ContextKeyConn) == nil {
						conn.Close()
					}
				})
				return conn
			}
			return nil
		},
	)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Keys reports how many operator and viewer keys are loaded.
func (s *Server) Keys() (operators, viewers int) {
	return s.keys.count(Operator), s.keys.count(Viewer)
}

// Fingerprint is the host key's SHA256 fingerprint, which clients are asked
// to confirm on first connection.
func (s *Server) Fingerprint() string { return gossh.FingerprintSHA256(s.cfg.HostKey.PublicKey()) }

// WriteBanner tells the operator at the server's terminal where it
// listens, whom it admits, its host key (at hostKeyPath, just created or
// not) and how to connect.
func (s *Server) WriteBanner(w io.Writer, addr net.Addr, hostKeyPath string, created bool) {
	nOps, nViewers := s.Keys()
	verb := "using"
	if created {
		verb = "created"
	}
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "<this host>"
	}
	fmt.Fprintf(w, "serving on %s: %d operator keys (%s), %d viewer keys (%s)\n", addr, nOps, orNone(s.cfg.OperatorKeys), nViewers, orNone(s.cfg.ViewerKeys))
	fmt.Fprintf(w, "host key %s (%s %s)\n", s.Fingerprint(), verb, hostKeyPath)
	fmt.Fprintf(w, "connect: ssh -p %s %s    (q detaches; operators stop the run with S; Ctrl-C here stops it)\n", port, host)
}

func orNone(path string) string {
	if path == "" {
		return "none"
	}
	return path
}

// Serve serves src's run, recorded in session (shown in every status
// bar), on ln until Shutdown or Close; it then returns ssh.ErrServerClosed.
func (s *Server) Serve(ln net.Listener, src Source, session string) error {
	s.mu.Lock()
	if s.served {
		s.mu.Unlock()
		return errors.New("serve: Serve called twice")
	}
	s.served, s.src, s.path = true, src, session
	s.mu.Unlock()
	return s.ssh.Serve(ln)
}

// Clients is the number of connected clients.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Notify shows text in every client's footer and event log.
func (s *Server) Notify(text string, isErr bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.send(tui.Notice{Text: text, Err: isErr})
	}
	s.logf("told clients: %s", text)
}

// Shutdown stops accepting clients, detaches every client with farewell
// (printed on its terminal after the TUI closes) and waits for them to go;
// when ctx ends first, the remaining connections are closed.
func (s *Server) Shutdown(ctx context.Context, farewell string) error {
	s.mu.Lock()
	s.closing = farewell
	for c := range s.clients {
		c.kick(farewell, quitGrace)
	}
	s.mu.Unlock()
	// ssh.Server.Shutdown closes the listener at once, then waits for the
	// connections to end.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.ssh.Shutdown(sctx) }()
	for s.Clients() > 0 {
		select {
		case <-s.gone:
		case <-ctx.Done():
			s.logf("shutdown: %d clients did not leave in time; closing their connections", s.Clients())
			cancel()
			<-shut
			return s.ssh.Close()
		}
	}
	// A connection without a session (or a client that keeps its
	// connection after its session ended) is closed rather than waited for.
	select {
	case err := <-shut:
		return err
	case <-time.After(500 * time.Millisecond):
		cancel()
		<-shut
		return s.ssh.Close()
	}
}

// Close closes every connection at once.
func (s *Server) Close() error { return s.ssh.Close() }

func (s *Server) logf(format string, args ...any) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	writeLogLine(s.cfg.Log, format, args...)
}

// authorize admits a key found in either file. It only decides admission:
// the client's role is looked up again from the key the connection
// authenticated with (see admit), since this callback also sees keys that
// are merely offered.
func (s *Server) authorize(ctx ssh.Context, key ssh.PublicKey) bool {
	if _, ok := s.keys.lookup(key); ok {
		return true
	}
	s.logf("refused key %s (%s) for user %q from %s: not in the operator or viewer keys",
		gossh.FingerprintSHA256(key), key.Type(), ctx.User(), ctx.RemoteAddr())
	return false
}

// admit is the session handler: it names the client, decides its role,
// enforces the client limit, runs the client's TUI and, when the session
// ends, cancels its subscription and prints the farewell.
func (s *Server) admit(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		key := sess.PublicKey()
		if key == nil {
			wish.Fatalln(sess, "ccface: public-key authentication required")
			return
		}
		e, ok := s.keys.lookup(key)
		if !ok {
			s.logf("refused %s from %s: key removed since authentication", gossh.FingerprintSHA256(key), sess.RemoteAddr())
			wish.Fatalln(sess, "ccface: your key is no longer authorized")
			return
		}
		by := Identity(e.comment, sess.User(), key)
		pty, _, isPty := sess.Pty()
		if !isPty {
			s.logf("%s refused: no terminal (from %s)", by, sess.RemoteAddr())
			wish.Fatalln(sess, "ccface: this is a terminal UI: connect with `ssh -t` from a terminal")
			return
		}
		c, msg := s.register(sess, e.role, by)
		if c == nil {
			s.logf("%s refused: %s", by, msg)
			wish.Fatalln(sess, "ccface: "+msg)
			return
		}
		start := time.Now()
		s.logf("%s connected as %s from %s (%s, %dx%d; key %s, %s)", by, e.role, sess.RemoteAddr(),
			pty.Term, pty.Window.Width, pty.Window.Height, gossh.FingerprintSHA256(key), e.where)
		go s.watch(c)
		defer func() {
			s.unregister(c)
			s.logf("%s disconnected after %s: %s", by, time.Since(start).Round(time.Second), c.reason())
		}()
		s.run(c, sess)
		next(sess)
		if f := c.farewellText(); f != "" {
			fmt.Fprintf(sess, "\r\nccface: %s\r\n", f)
		}
	}
}

func (s *Server) register(sess ssh.Session, role Role, by string) (*client, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing != "" {
		return nil, s.closing
	}
	if n := len(s.clients); n >= s.cfg.MaxClients {
		return nil, fmt.Sprintf("the server is full: %d clients are connected (limit %d); try again later", n, s.cfg.MaxClients)
	}
	s.nextID++
	c := newClient(s.nextID, sess, role, by)
	s.clients[c] = struct{}{}
	return c, ""
}

func (s *Server) unregister(c *client) {
	c.end()
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
	select {
	case s.gone <- struct{}{}:
	default:
	}
}

// run runs the client's TUI on its own hub subscription until the client
// quits, is kicked or its connection ends. It does what wish's bubbletea
// middleware does (window changes become WindowSizeMsg; the session's end
// kills the program) without that package's terminal queries and extra
// module dependencies, and with the server's own input/output wrappers.
func (s *Server) run(c *client, sess ssh.Session) {
	p := s.program(c, sess)
	if p == nil {
		return
	}
	_, winch, _ := sess.Pty()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case w, ok := <-winch:
				if !ok {
					return
				}
				p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
			}
		}
	}()
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		c.setReason("its TUI failed: " + err.Error())
	}
}

// program builds the client's tea.Program on its own hub subscription.
func (s *Server) program(c *client, sess ssh.Session) *tea.Program {
	view, cancel := s.src.Subscribe()
	tr := &clientTrainer{Trainer: view, c: c, logf: s.logf, events: throttle(view.Events(), s.cfg.Redraw, c.done)}
	m := tui.New(tr, tui.Options{
		SessionPath: s.path,
		By:          c.by,
		ReadOnly:    c.role == Viewer,
		Detach:      true,
		Renderer:    newRenderer(sess),
	})
	p := tea.NewProgram(m,
		tea.WithAltScreen(),
		tea.WithInput(&inputReader{r: sess, c: c}),
		tea.WithOutput(&outputWriter{w: sess, c: c}),
		tea.WithoutSignalHandler(),      // the server's SIGTERM is for the server, not each client
		tea.WithContext(sess.Context()), // a closed connection kills the program
	)
	if !c.attach(p, cancel) { // shut down before it started
		return nil
	}
	return p
}

// watch disconnects c when it is idle or its terminal stalls.
func (s *Server) watch(c *client) {
	tick := s.cfg.StallTimeout / 4
	if s.cfg.IdleTimeout > 0 {
		tick = min(tick, s.cfg.IdleTimeout/8)
	}
	tick = min(max(tick, 10*time.Millisecond), 5*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	warned := false
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			if since := c.writeBlockedSince(); !since.IsZero() && now.Sub(since) > s.cfg.StallTimeout {
				c.setReason(fmt.Sprintf("its terminal took no output for %s", s.cfg.StallTimeout))
				c.closeConn()
				return
			}
			if s.cfg.IdleTimeout <= 0 {
				continue
			}
			idle := now.Sub(c.lastInput())
			if idle > s.cfg.IdleTimeout {
				c.kick(fmt.Sprintf("disconnected after %s without a key press (idle timeout)", s.cfg.IdleTimeout), quitGrace)
				return
			}
			warnAt := s.cfg.IdleTimeout - min(s.cfg.IdleTimeout/4, time.Minute)
			switch {
			case idle > warnAt && !warned:
				warned = true
				c.send(tui.Notice{Text: fmt.Sprintf("idle: this client will be disconnected in %s unless a key is pressed",
					(s.cfg.IdleTimeout - idle).Round(time.Second)), Err: true})
			case idle < warnAt:
				warned = false
			}
		}
	}
}
