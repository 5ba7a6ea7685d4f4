package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// An operator changes a knob; a second, read-only client sees the change
// (knob panel and log, with the operator's identity) on its own screen.
func TestOperatorChangeSeenByViewer(t *testing.T) {
	r := newRig(t, nil)
	r.fake.start(20)
	op := r.connect(r.alice, 160, 45)
	viewer := r.connect(r.bob, 120, 40)
	op.wait("step 200/100000")
	viewer.wait("step 200/100000", "read-only")

	op.keys(keyDown) // head → margin
	op.keys(keyRight)
	who := "alice@" + ShortFingerprint(r.alice.signer.PublicKey())
	eventually(t, "the operator's knob change", func() bool {
		for _, c := range r.fake.Calls() {
			if c == "SetKnob margin=0.45 by "+who {
				return true
			}
		}
		return false
	})
	viewer.wait("margin 0.4→0.45", "by "+who)
	op.wait("margin 0.4→0.45")
	if n := r.src.live.Load(); n != 2 {
		t.Errorf("%d live subscriptions, want 2", n)
	}
	if log := r.log.String(); !strings.Contains(log, who+": set margin=0.45") || !strings.Contains(log, "connected as operator") {
		t.Errorf("server log lacks the action or the connection:\n%s", log)
	}
}

// A viewer's knob and control keys are refused on its screen and change
// nothing; its Trainer refuses too, whatever the TUI does.
func TestViewerRefused(t *testing.T) {
	r := newRig(t, nil)
	r.fake.start(5)
	viewer := r.connect(r.bob, 120, 40)
	viewer.wait("step 50/100000")
	viewer.keys(keyDown + keyRight)
	viewer.wait("read-only viewer: knobs and controls are disabled")
	viewer.keys("p")
	viewer.keys("c")
	viewer.keys("S")
	time.Sleep(200 * time.Millisecond)
	if calls := r.fake.Calls(); len(calls) != 0 {
		t.Errorf("a viewer changed something: %q", calls)
	}
	if got := r.fake.Config().Hyper.Margin; got != 0.4 {
		t.Errorf("margin %v after a viewer's key, want 0.4", got)
	}

	// Defence in depth: the Trainer a viewer gets refuses by itself.
	c := &client{role: Viewer, by: "bob@x"}
	tr := &clientTrainer{Trainer: r.fake, c: c, logf: r.srv.logf}
	if err := tr.SetKnob("margin", "0.5", "forged"); !errors.Is(err, errReadOnly) {
		t.Errorf("viewer SetKnob: %v", err)
	}
	if err := tr.Pause("forged"); !errors.Is(err, errReadOnly) {
		t.Errorf("viewer Pause: %v", err)
	}
	tr.Stop("forged")
	if calls := r.fake.Calls(); len(calls) != 0 {
		t.Errorf("viewer trainer made calls: %q", calls)
	}
	// An operator's calls carry the server's identity, not the caller's.
	op := &clientTrainer{Trainer: r.fake, c: &client{role: Operator, by: "alice@y"}, logf: r.srv.logf}
	if err := op.Checkpoint("forged"); err != nil {
		t.Fatal(err)
	}
	if calls := r.fake.Calls(); len(calls) != 1 || calls[0] != "Checkpoint alice@y" {
		t.Errorf("operator calls %q", calls)
	}
}

// Unknown keys, passwords and keyboard-interactive are refused; password
// and keyboard-interactive are not even offered.
func TestAuthRefused(t *testing.T) {
	r := newRig(t, nil)
	for name, auth := range map[string]gossh.AuthMethod{
		"unknown key": gossh.PublicKeys(r.mallory.signer),
		"password":    gossh.Password("hunter2"),
		"keyboard-interactive": gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return []string{"hunter2"}, nil
		}),
	} {
		c, err := r.dial("alice", auth)
		if err == nil {
			c.Close()
			t.Errorf("%s: connected", name)
			continue
		}
		if !strings.Contains(err.Error(), "unable to authenticate") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if log := r.log.String(); !strings.Contains(log, "refused key "+gossh.FingerprintSHA256(r.mallory.signer.PublicKey())) {
		t.Errorf("unknown key not logged:\n%s", log)
	}
	if r.src.live.Load() != 0 || r.srv.Clients() != 0 {
		t.Errorf("a refused client got a subscription")
	}
}

// Keys added to the files take effect without a restart; a key in both
// files is an operator.
func TestKeysReloaded(t *testing.T) {
	r := newRig(t, nil)
	if _, err := r.dial("x", gossh.PublicKeys(r.mallory.signer)); err == nil {
		t.Fatal("mallory admitted before being added")
	}
	writeFile(t, r.viewFile, r.bob.line+r.mallory.line+r.alice.line)
	os.Chtimes(r.viewFile, time.Now().Add(time.Second), time.Now().Add(time.Second))
	r.fake.start(1)
	m := r.connect(r.mallory, 100, 30)
	m.wait("read-only")
	a := r.connect(r.alice, 140, 30)
	a.wait("S stop")
}

func TestHostKeyCreatedOnceAndPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "ssh_host_ed25519")
	s1, created, err := LoadOrCreateHostKey(path)
	if err != nil || !created {
		t.Fatalf("first start: created=%v err=%v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %#o, want 0600", fi.Mode().Perm())
	}
	if _, err := os.Stat(path + ".pub"); err != nil {
		t.Errorf("no public key beside it: %v", err)
	}
	s2, created, err := LoadOrCreateHostKey(path)
	if err != nil || created {
		t.Fatalf("second start: created=%v err=%v", created, err)
	}
	if gossh.FingerprintSHA256(s1.PublicKey()) != gossh.FingerprintSHA256(s2.PublicKey()) {
		t.Error("host key changed between starts")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateHostKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable host key: %v", err)
	}
}

// One client more than the limit is told so and disconnected; the others
// are not disturbed, and a place frees up when one leaves.
func TestClientLimit(t *testing.T) {
	r := newRig(t, func(c *Config) { c.MaxClients = 2 })
	r.fake.start(3)
	a := r.connect(r.alice, 100, 30)
	b := r.connect(r.bob, 100, 30)
	a.wait("step 30/100000")
	b.wait("step 30/100000")
	c := r.connect(r.bob, 100, 30)
	c.wait("the server is full: 2 clients are connected (limit 2)")
	var exit *gossh.ExitError
	if err := c.waitEnd(); !errors.As(err, &exit) || exit.ExitStatus() != 1 {
		t.Errorf("extra client ended with %v, want exit status 1", err)
	}
	if n := r.src.live.Load(); n != 2 {
		t.Errorf("%d subscriptions, want 2", n)
	}
	b.keys("q") // detaches b
	if err := b.waitEnd(); err != nil {
		t.Errorf("q should end the session cleanly: %v", err)
	}
	eventually(t, "b to unregister", func() bool { return r.srv.Clients() == 1 })
	d := r.connect(r.bob, 100, 30)
	d.wait("step 30/100000")
}

// q detaches an operator without stopping the run; S asks, y stops.
func TestOperatorDetachAndStop(t *testing.T) {
	r := newRig(t, nil)
	r.fake.start(3)
	a := r.connect(r.alice, 140, 40)
	a.wait("step 30/100000", "q detach  S stop")
	a.keys("q")
	if err := a.waitEnd(); err != nil {
		t.Fatalf("detach: %v", err)
	}
	for _, c := range r.fake.Calls() {
		if strings.HasPrefix(c, "Stop") {
			t.Fatalf("q stopped the run: %q", r.fake.Calls())
		}
	}
	a = r.connect(r.alice, 140, 40)
	a.wait("step 30/100000")
	a.keys("S")
	a.wait("Stop the run for everyone? y/n")
	a.keys("y")
	who := "alice@" + ShortFingerprint(r.alice.signer.PublicKey())
	eventually(t, "Stop", func() bool {
		calls := r.fake.Calls()
		return len(calls) > 0 && calls[len(calls)-1] == "Stop "+who
	})
	if !strings.Contains(r.log.String(), who+": stop the run") {
		t.Errorf("stop not in the server log:\n%s", r.log.String())
	}
}

// A client that vanishes, one that stops reading and one with a 1×1 window
// never hold the engine up; the vanished and the stalled one are torn
// down and their subscriptions released.
func TestBadClientsDoNotHoldUpTheRun(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.StallTimeout = 300 * time.Millisecond
		c.Redraw = time.Millisecond // every frame the TUI will draw: fill the silent client's window sooner
	})
	r.fake.start(5)

	gone := r.connect(r.bob, 100, 30)
	gone.wait("step 50/100000")
	tiny := r.connect(r.bob, 1, 1)
	eventually(t, "three clients", func() bool { return r.srv.Clients() == 2 })

	c, err := r.dial("x", gossh.PublicKeys(r.bob.signer))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r.open(c, 400, 150, false) // never reads its output
	eventually(t, "three clients", func() bool { return r.srv.Clients() == 3 })

	gone.client.Close() // vanishes without a word
	if err := tiny.sess.WindowChange(0, 0); err != nil {
		t.Fatal(err)
	}

	// The "engine" keeps emitting a point every 2 ms, so every screen keeps
	// changing and the silent client's SSH window (2 MiB) runs out; no emit
	// may wait for any client.
	stop := make(chan struct{})
	slowest := make(chan time.Duration, 1)
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	defer func() { // the emitter must be done before the rig's cleanup closes the fake's channel
		halt()
		select {
		case w := <-slowest:
			slowest <- w
		case <-time.After(waitFor):
		}
	}()
	go func() {
		var worst time.Duration
		defer func() { slowest <- worst }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			t0 := time.Now()
			r.fake.points(1)
			worst = max(worst, time.Since(t0))
		}
	}()
	eventually(t, "the vanished and the stalled client to be torn down", func() bool { return r.srv.Clients() == 1 })
	halt()
	if worst := <-slowest; worst > time.Second {
		t.Errorf("an emit waited %s with bad clients connected", worst)
	}
	eventually(t, "their subscriptions to be released", func() bool { return r.src.live.Load() == 1 })
	log := r.log.String()
	if !strings.Contains(log, "took no output for") {
		t.Errorf("stalled client not logged:\n%s", log)
	}
	// The tiny client is still served: grow it and it draws the run.
	if err := tiny.sess.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	tiny.wait("/100000")
	last := r.fake.Step()
	r.fake.points(1)
	tiny.wait(fmt.Sprintf("step %d/100000", last+10))
}

// A client that presses no key is warned, then disconnected with a
// farewell; its subscription is released.
func TestIdleTimeout(t *testing.T) {
	r := newRig(t, func(c *Config) { c.IdleTimeout = 1200 * time.Millisecond })
	r.fake.start(2)
	a := r.connect(r.bob, 120, 40)
	a.wait("step 20/100000")
	a.wait("idle: this client will be disconnected")
	a.wait("disconnected after 1.2s without a key press")
	a.waitEnd()
	eventually(t, "release", func() bool { return r.src.live.Load() == 0 && r.srv.Clients() == 0 })
}

// Shutdown tells every client, prints the farewell on each terminal after
// the TUI closed, refuses new clients and returns once they are gone.
func TestShutdown(t *testing.T) {
	r := newRig(t, nil)
	r.fake.start(2)
	a := r.connect(r.alice, 120, 40)
	b := r.connect(r.bob, 120, 40)
	a.wait("step 20/100000")
	b.wait("step 20/100000")
	r.srv.Notify("server shutting down: stopping the run", true)
	a.wait("server shutting down: stopping the run")
	b.wait("server shutting down: stopping the run")
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	start := time.Now()
	if err := r.srv.Shutdown(ctx, "the server shut down; session /tmp/session-x"); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	for _, c := range []*term{a, b} {
		c.waitEnd()
		c.wait("ccface: the server shut down; session /tmp/session-x")
	}
	if r.src.live.Load() != 0 {
		t.Errorf("%d subscriptions left", r.src.live.Load())
	}
	if _, err := r.dial("x", gossh.PublicKeys(r.alice.signer)); err == nil {
		t.Error("connected after shutdown")
	}
}

// A connection that never authenticates is closed after the handshake
// timeout.
func TestHandshakeTimeout(t *testing.T) {
	r := newRig(t, func(c *Config) { c.HandshakeTimeout = 200 * time.Millisecond })
	conn, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(waitFor))
	start := time.Now()
	_, err = io.ReadAll(conn) // the server's version line, then EOF
	if err != nil {
		t.Fatalf("connection not closed by the server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("closed after %s", d)
	}
}

// A session without a terminal is told to use ssh -t.
func TestNoPty(t *testing.T) {
	r := newRig(t, nil)
	c, err := r.dial("x", gossh.PublicKeys(r.alice.signer))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := sess.CombinedOutput("")
	if !strings.Contains(string(out), "ssh -t") {
		t.Errorf("output %q", out)
	}
	if r.src.live.Load() != 0 {
		t.Error("a refused session got a subscription")
	}
}

func TestIdentity(t *testing.T) {
	k := newKey(t, "x").signer.PublicKey()
	fp := ShortFingerprint(k)
	if !strings.HasPrefix(fp, "SHA256:") || len(fp) != len("SHA256:")+8 {
		t.Errorf("short fingerprint %q", fp)
	}
	for _, c := range []struct{ comment, user, want string }{
		{"alice", "root", "alice@" + fp},
		{"", "root", "root@" + fp},
		{"alice laptop\x1b[31m", "root", "alice_laptop[31m@" + fp},
		{"", "", "anonymous@" + fp},
		{strings.Repeat("a", 50), "", strings.Repeat("a", 32) + "@" + fp},
	} {
		if got := Identity(c.comment, c.user, k); got != c.want {
			t.Errorf("Identity(%q, %q) = %q, want %q", c.comment, c.user, got, c.want)
		}
	}
}

func TestKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	writeFile(t, bad, "# ok\n\nssh-ed25519 not-base64 alice\n")
	if _, err := newKeyring(bad, "", nil); err == nil || !strings.Contains(err.Error(), bad+":3:") {
		t.Errorf("bad line: %v", err)
	}
	if _, err := newKeyring(filepath.Join(dir, "missing"), "", nil); err == nil {
		t.Error("missing file accepted")
	}
	empty := filepath.Join(dir, "empty")
	writeFile(t, empty, "# nobody yet\n")
	if _, err := newKeyring(empty, "", nil); err == nil || !strings.Contains(err.Error(), "no public keys") {
		t.Errorf("no keys: %v", err)
	}
	opts := filepath.Join(dir, "opts")
	writeFile(t, opts, `from="10.0.0.0/8",no-pty `+newKey(t, "carol").line)
	k, err := newKeyring(opts, "", nil)
	if err != nil || k.count(Operator) != 1 {
		t.Errorf("a line with options: %v", err)
	}
}
