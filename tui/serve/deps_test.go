package serve

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the SSH server on the TUI's side of DESIGN.md's
// line: it serves engine.Trainer views and never pulls in gorgonia or the
// engine's implementation.
func TestDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, d := range strings.Fields(string(out)) {
		if strings.HasPrefix(d, "gorgonia.org/") || strings.HasPrefix(d, "github.com/ccface/ccface/engine/") {
			t.Errorf("tui/serve depends on %s", d)
		}
	}
}
