package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions/live"
	"github.com/ccface/ccface/tui/serve"
)

// cmdServe starts (or resumes, with --session) a training run and serves
// its TUI over SSH until the run has ended and --linger has passed, or
// SIGTERM/SIGINT stops it (with a final checkpoint). The terminal it runs
// in gets the headless progress lines and the server's log; the log also
// goes to serve.log in the session.
func cmdServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	var f runFlags
	f.register(fs)
	listen := fs.String("listen", "127.0.0.1:2222", "address to listen on (`:2222` for every interface)")
	opKeys := fs.String("authorized-keys", "", "operators' public keys, authorized_keys format (default ~/.ssh/authorized_keys; \"\" for none)")
	viewerKeys := fs.String("viewers", "", "viewers' public keys (read-only), authorized_keys format")
	hostKey := fs.String("host-key", "", "SSH host key, created (0600) on first start (default <sessions>/ssh_host_ed25519)")
	sessionID := fs.String("session", "", "resume this session (see `ccface sessions`) instead of starting a new one")
	maxClients := fs.Int("max-clients", 8, "most clients connected at once")
	idle := fs.Duration("idle-timeout", 30*time.Minute, "disconnect a client after this long without a key press (0: never)")
	linger := fs.Duration("linger", 5*time.Minute, "after the run ends, keep serving its final screen this long (0: exit at once)")
	redraw := fs.Duration("redraw", 500*time.Millisecond, "how often each client's screen follows the run (lower costs the training more CPU per client)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if *sessionID != "" {
		for _, name := range []string{"data", "preset", "set", "name"} {
			if set[name] {
				return fmt.Errorf("--%s cannot be combined with --session: a resumed run keeps its own configuration: %w", name, errUsage)
			}
		}
	}
	if *maxClients < 1 {
		return fmt.Errorf("--max-clients %d: want at least 1", *maxClients)
	}
	var cfg engine.Config
	if *sessionID == "" {
		var err error
		if cfg, err = f.config(); err != nil {
			return err
		}
	}
	root, err := sessionsRoot(f.sessions)
	if err != nil {
		return err
	}
	if !set["authorized-keys"] {
		*opKeys = serve.DefaultOperatorKeys()
	}
	if *hostKey == "" {
		*hostKey = filepath.Join(root, "ssh_host_ed25519")
	}

	// Everything that can fail fast does, before any training starts.
	signer, created, err := serve.LoadOrCreateHostKey(*hostKey)
	if err != nil {
		return err
	}
	logs := serve.NewLog(stderr)
	srv, err := serve.New(serve.Config{HostKey: signer, OperatorKeys: *opKeys, ViewerKeys: *viewerKeys,
		MaxClients: *maxClients, IdleTimeout: *idle, Redraw: *redraw, Log: logs})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("serve: %w (is another server on that port? try --listen 127.0.0.1:2223)", err)
	}
	defer ln.Close()

	spec := live.Spec{Root: root, Log: stdout, Config: cfg, Name: f.name, Resume: *sessionID}
	r, err := live.Open(spec)
	if err != nil {
		return err
	}
	return r.Serve(live.ServeSpec{Screens: srv, Addr: ln.Addr(), Log: logs, Out: stdout, Warn: stderr, Linger: *linger,
		Serve:  func() error { return srv.Serve(ln, r.Hub(), r.Session().Dir) },
		Banner: func(w io.Writer) { srv.WriteBanner(w, ln.Addr(), *hostKey, created) }})
}
