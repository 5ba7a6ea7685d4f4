package serve

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/enginetest"
)

// waitFor bounds every wait: generous for -race on a loaded box.
const waitFor = 15 * time.Second

// fakeTrainer is the shared scriptable trainer, applying knob changes at
// once as the engine does, with the scripted runs below.
type fakeTrainer struct{ *enginetest.Fake }

func newFake() *fakeTrainer {
	f := &fakeTrainer{enginetest.New(1024)}
	f.EchoKnobs = true
	return f
}

// start emits the start of a run and n points.
func (f *fakeTrainer) start(n int) {
	f.Emit(engine.Event{Kind: engine.KindStart, Phase: engine.PhaseTeacher, Time: time.Now(),
		Values: map[string]float64{engine.MTotalSteps: 100000}})
	f.points(n)
}

// points emits n more points, one batch each.
func (f *fakeTrainer) points(n int) {
	for range n {
		s := f.Advance(10)
		// Noisy values: every redraw changes most chart cells, as a real
		// run's early curves do, so a client's output keeps flowing.
		n := func(scale float64) float64 { return scale * (1 + 0.5*mrand.Float64()) }
		f.Emit(engine.Event{Kind: engine.KindPoint, Step: s, Phase: engine.PhaseTeacher, Time: time.Now(),
			Values: map[string]float64{engine.MLoss: n(5), engine.MMargin: n(0.4), engine.MThetaLR: n(60), engine.MThetaHR: n(40),
				engine.MAccLR: n(0.5), engine.MImgPerSec: 900}})
	}
}

// pointsBatch emits n more points in one batch, as the engine's outbox
// flushes them.
func (f *fakeTrainer) pointsBatch(n int) {
	batch := make([]engine.Event, n)
	for i := range batch {
		step := f.Advance(10)
		// The values a student step reports, noisy as per-batch values are.
		nz := func(v float64) float64 { return v * (1 + 0.1*mrand.NormFloat64()) }
		batch[i] = engine.Event{Kind: engine.KindPoint, Step: step, Phase: engine.PhaseStudent, Time: time.Now(),
			Values: map[string]float64{engine.MLoss: nz(31), engine.MLossCCHR: nz(15.7), engine.MLossCCLR: nz(15.8),
				engine.MAccHR: nz(0.12), engine.MAccLR: nz(0.06), engine.MClusterHR: nz(0.89), engine.MClusterLR: nz(0.88),
				engine.MMargin: 0.4, engine.MMarginStd: 0, engine.MThetaHR: nz(86), engine.MThetaLR: nz(86),
				engine.MLR: 0.01, engine.MImgPerSec: nz(900)}}
	}
	f.Emit(batch...)
}

func (f *fakeTrainer) finish() {
	f.Finish(engine.Event{Kind: engine.KindDone, Step: f.Step(), Time: time.Now(), Message: "finished"})
}

// countingSource is a hub that counts live subscriptions.
type countingSource struct {
	hub  *engine.Hub
	live atomic.Int64
}

func (c *countingSource) Subscribe() (engine.Trainer, func()) {
	tr, cancel := c.hub.Subscribe()
	c.live.Add(1)
	var once sync.Once
	return tr, func() { once.Do(func() { c.live.Add(-1); cancel() }) }
}

// key is a client key pair with its authorized_keys line.
type key struct {
	signer gossh.Signer
	priv   ed25519.PrivateKey
	line   string
}

func newKey(t testing.TB, comment string) key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey()))) + " " + comment + "\n"
	return key{s, priv, line}
}

// rig is a server on loopback serving a fake run.
type rig struct {
	t        testing.TB
	fake     *fakeTrainer
	src      *countingSource
	srv      *Server
	addr     string
	hostKey  gossh.PublicKey
	log      *syncBuffer
	alice    key // operator
	bob      key // viewer
	mallory  key // unknown
	opsFile  string
	viewFile string
}

func newRig(t testing.TB, tweak func(*Config)) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{t: t, fake: newFake(), log: &syncBuffer{},
		alice: newKey(t, "alice"), bob: newKey(t, "bob"), mallory: newKey(t, "mallory")}
	r.opsFile = filepath.Join(dir, "operators")
	r.viewFile = filepath.Join(dir, "viewers")
	writeFile(t, r.opsFile, "# operators\n"+r.alice.line)
	writeFile(t, r.viewFile, r.bob.line)
	hk, _, err := LoadOrCreateHostKey(filepath.Join(dir, "ssh_host_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	r.hostKey = hk.PublicKey()
	cfg := Config{HostKey: hk, OperatorKeys: r.opsFile, ViewerKeys: r.viewFile, Log: r.log}
	if tweak != nil {
		tweak(&cfg)
	}
	r.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.src = &countingSource{hub: engine.NewHub(r.fake)}
	go r.srv.Serve(ln, r.src, "/tmp/session-x")
	t.Cleanup(func() {
		r.srv.Close()
		r.fake.finish()
		if t.Failed() {
			t.Logf("server log:\n%s", r.log.String())
		}
	})
	return r
}

func writeFile(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// dial connects with auth methods; it does not open a session.
func (r *rig) dial(user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", r.addr, &gossh.ClientConfig{
		User: user, Auth: auth, HostKeyCallback: gossh.FixedHostKey(r.hostKey), Timeout: waitFor,
	})
}

// term is one SSH client with a pty whose output is collected.
type term struct {
	t      testing.TB
	client *gossh.Client
	sess   *gossh.Session
	in     io.WriteCloser
	out    *syncBuffer
	done   chan error // session ended (Wait's result)
}

// connect opens a client with key k and a w×h pty and starts the TUI.
func (r *rig) connect(k key, w, h int) *term {
	r.t.Helper()
	c, err := r.dial("tester", gossh.PublicKeys(k.signer))
	if err != nil {
		r.t.Fatalf("dial: %v", err)
	}
	tm := r.open(c, w, h, true)
	r.t.Cleanup(func() { c.Close() })
	return tm
}

func (r *rig) open(c *gossh.Client, w, h int, read bool) *term {
	r.t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		r.t.Fatalf("session: %v", err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		r.t.Fatalf("pty: %v", err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	tm := &term{t: r.t, client: c, sess: sess, in: in, out: &syncBuffer{}, done: make(chan error, 1)}
	if read {
		sess.Stdout = tm.out
		sess.Stderr = tm.out
	} else {
		stdout, err := sess.StdoutPipe() // never read: the server's window fills up
		if err != nil {
			r.t.Fatal(err)
		}
		_ = stdout
	}
	if err := sess.Shell(); err != nil {
		r.t.Fatalf("shell: %v", err)
	}
	go func() { tm.done <- sess.Wait() }()
	return tm
}

// screen is everything the client was sent, escape codes stripped.
func (tm *term) screen() string { return ansi.Strip(tm.out.String()) }

// wait waits until the client's output contains every want.
func (tm *term) wait(want ...string) {
	tm.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		s := tm.screen()
		ok := true
		for _, w := range want {
			if !strings.Contains(s, w) {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tail := s
			if len(tail) > 3000 {
				tail = tail[len(tail)-3000:]
			}
			tm.t.Fatalf("client never showed %q; output tail:\n%s", want, tail)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitEnd waits for the session to end and returns Wait's error.
func (tm *term) waitEnd() error {
	tm.t.Helper()
	select {
	case err := <-tm.done:
		return err
	case <-time.After(waitFor):
		tm.t.Fatalf("session did not end; output tail: %q", tail(tm.screen(), 500))
		return nil
	}
}

func (tm *term) keys(s string) {
	tm.t.Helper()
	if _, err := tm.in.Write([]byte(s)); err != nil {
		tm.t.Fatalf("send keys: %v", err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const (
	keyDown  = "\x1b[B"
	keyRight = "\x1b[C"
)
