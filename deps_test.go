package main

import (
	"os/exec"
	"strings"
	"testing"
)

// banned reports whether dep is what the rule entry b names: b and its
// sub-packages, or only the sub-packages when b ends in "/" (engine/ bans
// the implementation and leaves the engine contract).
func banned(dep, b string) bool {
	if strings.HasSuffix(b, "/") {
		return strings.HasPrefix(dep, b)
	}
	return dep == b || strings.HasPrefix(dep, b+"/")
}

// depRules is the one table of ccface's dependency rules (docs/ARCHITECTURE.md
// explains them): a package whose import path starts with pkg must not
// depend, directly or not, on anything starting with one of banned.
var depRules = []struct {
	pkg    string
	banned []string
	why    string
}{
	{mod + "/datasets", []string{mod + "/engine", mod + "/align", mod + "/sessions", mod + "/tui", mod + "/plots", "gorgonia.org/"},
		"face data is the ground floor: it knows nothing of training"},
	{mod + "/align", []string{mod + "/engine/train", mod + "/sessions", mod + "/tui", mod + "/plots", "github.com/charmbracelet/"},
		"face alignment runs a detector on images; training (data.align) calls it, never the reverse"},
	{mod + "/engine/train", []string{mod + "/tui", mod + "/plots", mod + "/sessions", "github.com/charmbracelet/"},
		"the engine is observed and steered, never observes; engine/train alone may align data on load (data.align)"},
	{mod + "/engine", []string{mod + "/tui", mod + "/plots", mod + "/sessions", mod + "/align", "github.com/charmbracelet/"},
		"the engine is observed and steered, never observes: no UI, plots or session store"},
	{mod + "/sessions/live", []string{mod + "/tui", mod + "/plots", "github.com/charmbracelet/"},
		"the run lifecycle serves every front end and imports none"},
	{mod + "/sessions", []string{"gorgonia.org/", mod + "/engine/train", mod + "/engine/nn", mod + "/tui", mod + "/plots"},
		"the session store takes plain data (configs, events, blobs), never a live model"},
	{mod + "/sweep", []string{"gorgonia.org/", mod + "/engine/train", mod + "/engine/nn", mod + "/tui", mod + "/plots"},
		"a sweep is plans, scripts and session folders: it never trains"},
	{mod + "/plots", []string{"gorgonia.org/", mod + "/engine/", mod + "/sessions", mod + "/tui"},
		"plots take plain events and never a live model"},
	{mod + "/tui", []string{"gorgonia.org/", mod + "/engine/", mod + "/sessions", mod + "/plots"},
		"the TUI talks to engine.Trainer only; main wires it to sessions and plots"},
}

const mod = "github.com/ccface/ccface"

// TestDependencyRules checks every package against the first rule whose
// prefix it has (sessions/live before sessions).
func TestDependencyRules(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, deps := fields[0], fields[1:]
		for _, r := range depRules {
			if pkg != r.pkg && !strings.HasPrefix(pkg, r.pkg+"/") {
				continue
			}
			checked++
			for _, d := range deps {
				for _, b := range r.banned {
					if banned(d, b) {
						t.Errorf("%s depends on %s: %s", pkg, d, r.why)
					}
				}
			}
			break
		}
	}
	if checked < len(depRules) {
		t.Errorf("only %d packages matched the %d rules: is the table stale?", checked, len(depRules))
	}
}
