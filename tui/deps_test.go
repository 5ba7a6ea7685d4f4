package tui

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies enforces DESIGN.md's dependency direction: the TUI never
// pulls in gorgonia (it talks to engine.Trainer only), and the engine
// contract never pulls in the TUI or charmbracelet.
func TestDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	deps := func(pkg string) []string {
		out, err := exec.Command(goBin, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		return strings.Fields(string(out))
	}
	for _, d := range deps(".") {
		if strings.HasPrefix(d, "gorgonia.org/") {
			t.Errorf("tui depends on %s", d)
		}
	}
	for _, d := range deps("../engine") {
		if d == "github.com/ccface/ccface/tui" || strings.HasPrefix(d, "github.com/charmbracelet/") {
			t.Errorf("engine depends on %s", d)
		}
	}
}
