//go:build unix

package serve

import (
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// BenchmarkServeClients measures what serving costs the server process:
// its CPU time per second of wall time while a fake engine emits a live
// run's events (a batch of 4 student points with every metric the engine
// reports, every 100 ms, as the engine's outbox flushes at ~40 steps/s,
// over a history of 3000 points) and n clients
// watch it on 160×45 terminals. Each client is a separate process (this
// test binary re-executed as an x/crypto/ssh client that discards its
// output), so only the server's side is counted. One iteration is one
// second; run with -benchtime=10x.
//
//	go test -run XXX -bench ServeClients -benchtime 10x ./tui/serve/
//
// cpu-ms/s at n clients minus that at 0 is the cost of n clients; divided
// by the training's own CPU (about 1000 ms/s per core it uses) it is the
// share of training throughput they can take at most.
func BenchmarkServeClients(b *testing.B) {
	for _, n := range []int{0, 1, 5} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchClients(b, n) })
	}
}

func benchClients(b *testing.B, n int) {
	r := newRig(b, func(c *Config) { c.MaxClients = 16; c.Redraw = benchRedraw() })
	r.fake.start(3000)
	stop, fed := make(chan struct{}), make(chan struct{})
	defer func() { close(stop); <-fed }() // before the rig's cleanup closes the fake's channel
	go func() {
		defer close(fed)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				r.fake.pointsBatch(4)
			}
		}
	}()
	keyFile := filepath.Join(b.TempDir(), "key")
	block, err := gossh.MarshalPrivateKey(r.bob.priv, "")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		b.Fatal(err)
	}
	for range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "CCFACE_SERVE_BENCH_CLIENT="+r.addr, "CCFACE_SERVE_BENCH_KEY="+keyFile)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}
	deadline := time.Now().Add(waitFor)
	for r.srv.Clients() != n {
		if time.Now().After(deadline) {
			b.Fatalf("%d clients connected, want %d", r.srv.Clients(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // history replayed, first frames drawn
	b.ResetTimer()
	c0, t0 := cpuTime(), time.Now()
	for range b.N {
		time.Sleep(time.Second)
	}
	cpu, wall := cpuTime()-c0, time.Since(t0)
	b.ReportMetric(float64(cpu.Milliseconds())/wall.Seconds(), "cpu-ms/s")
	b.ReportMetric(0, "ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchClient is a re-executed test binary acting as one SSH client with a
// 160×45 terminal that reads and discards everything until it is killed.
func benchClient(addr, keyFile string) int {
	pemBytes, err := os.ReadFile(keyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	signer, err := gossh.ParsePrivateKey(pemBytes)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "bench", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: waitFor}) // loopback benchmark only
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sess, err := c.NewSession()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := sess.RequestPty("xterm-256color", 45, 160, gossh.TerminalModes{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out, _ := sess.StdoutPipe()
	if err := sess.Shell(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	io.Copy(io.Discard, out)
	return 0
}

func TestMain(m *testing.M) {
	if addr := os.Getenv("CCFACE_SERVE_BENCH_CLIENT"); addr != "" {
		os.Exit(benchClient(addr, os.Getenv("CCFACE_SERVE_BENCH_KEY")))
	}
	os.Exit(m.Run())
}

// benchRedraw is Config.Redraw for the benchmark: CCFACE_BENCH_REDRAW
// (e.g. 500ms), else the server's default.
func benchRedraw() time.Duration {
	d, _ := time.ParseDuration(os.Getenv("CCFACE_BENCH_REDRAW"))
	return d
}
