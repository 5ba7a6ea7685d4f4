package engine

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection enforces DESIGN.md's layering: nothing under
// engine/ imports the UI, the plots or the session store, and the session
// store takes plain data (no gorgonia).
func TestDependencyDirection(t *testing.T) {
	list := func(pkgs ...string) []string {
		out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).Output()
		if err != nil {
			t.Fatalf("go list %v: %v", pkgs, err)
		}
		return strings.Fields(string(out))
	}
	for _, d := range list("./...") {
		for _, banned := range []string{"ccface/tui", "ccface/plots", "ccface/sessions", "charmbracelet"} {
			if strings.Contains(d, banned) {
				t.Errorf("engine/... depends on %s", d)
			}
		}
	}
	for _, d := range list("../sessions", "../plots") {
		if strings.HasPrefix(d, "gorgonia.org/") {
			t.Errorf("sessions or plots depend on %s", d)
		}
	}
}
