package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/tui/serve"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a poller.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitText(t *testing.T, what string, buf *lockedBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(ansi.Strip(buf.String())); m != nil {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; got:\n%s", what, tailOf(ansi.Strip(buf.String()), 2000))
	return nil
}

func tailOf(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// A real (small) run served over SSH: an operator raises the margin, the
// change lands in events.jsonl with the operator's identity, then the
// operator stops the run (S, y); the server checkpoints, says goodbye and
// returns.
func TestServeOperatorChangesAndStops(t *testing.T) {
	root := t.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	ops := filepath.Join(t.TempDir(), "operators")
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey()))) + " tester\n"
	if err := os.WriteFile(ops, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr lockedBuffer
	args := append([]string{"--sessions", root, "--listen", "127.0.0.1:0", "--authorized-keys", ops, "--linger", "0"}, small...)
	args = append(args, "--set", "teacher.epochs=500", "--set", "ckpt.every_steps=0")
	done := make(chan error, 1)
	go func() { done <- cmdServe(args, &stdout, &stderr) }()

	addr := waitText(t, "the server", &stdout, regexp.MustCompile(`serving on (\S+):`))[1]
	pub, err := os.ReadFile(filepath.Join(root, "ssh_host_ed25519.pub"))
	if err != nil {
		t.Fatal(err)
	}
	hostKey, _, _, _, err := gossh.ParseAuthorizedKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "t", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.FixedHostKey(hostKey), Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 40, 150, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, _ := sess.StdinPipe()
	var screen lockedBuffer
	sess.Stdout, sess.Stderr = &screen, &screen
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	waitText(t, "the TUI", &screen, regexp.MustCompile(`▶ running`))
	io.WriteString(in, "\x1b[B\x1b[C") // head → margin, + 0.05
	waitText(t, "the margin change", &screen, regexp.MustCompile(`margin 0\.4→0\.45 @step \d+ by tester@SHA256:`))
	io.WriteString(in, "S")
	waitText(t, "the stop prompt", &screen, regexp.MustCompile(`Stop the run for everyone\? y/n`))
	io.WriteString(in, "y")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not return after the operator stopped the run\n%s", stderr.String())
	}
	sess.Wait()

	who := "tester@" + serve.ShortFingerprint(signer.PublicKey())
	list, _, err := sessions.List(root)
	if err != nil || len(list) != 1 {
		t.Fatalf("sessions: %v %v", list, err)
	}
	s, err := sessions.Open(root, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := sessions.ReadEvents(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var hyper, ckpt, stopped bool
	for _, ev := range evs {
		switch {
		case ev.Kind == engine.KindHyper && ev.Knob == "margin" && ev.New == "0.45" && ev.By == who:
			hyper = true
		case ev.Kind == engine.KindCheckpoint && ev.Message == "stop":
			ckpt = true
		case ev.Kind == engine.KindDone && strings.HasPrefix(ev.Message, "stopped"):
			stopped = true
		}
	}
	if !hyper || !ckpt || !stopped {
		t.Errorf("events.jsonl: hyper by %s %v, final checkpoint %v, stopped %v", who, hyper, ckpt, stopped)
	}
	log, _ := os.ReadFile(filepath.Join(s.Dir, "serve.log"))
	for _, want := range []string{who + " connected as operator", who + ": set margin=0.45", who + ": stop the run"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("serve.log lacks %q:\n%s", want, log)
		}
	}
	if !strings.Contains(ansi.Strip(screen.String()), "the server has closed") {
		t.Errorf("the client got no farewell")
	}
}

func TestServeFlagErrors(t *testing.T) {
	root := t.TempDir()
	t.Setenv("HOME", t.TempDir()) // no ~/.ssh/authorized_keys
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--session", "x", "--preset", "tiny"}, "--preset cannot be combined with --session"},
		{[]string{"--max-clients", "0"}, "--max-clients 0"},
		{[]string{"--sessions", root}, "no public keys"},
		{[]string{"--sessions", root, "--authorized-keys", filepath.Join(root, "missing")}, "missing"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		err := cmdServe(c.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error with %q", c.args, err, c.want)
		}
		if strings.Contains(c.want, "cannot") || strings.Contains(c.want, "unexpected") {
			if !errors.Is(err, errUsage) {
				t.Errorf("%q: not a usage error", c.args)
			}
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) > 2 { // host key and .pub at most: no session started
		t.Errorf("a failed serve left %d entries in the sessions dir", len(entries))
	}
}
