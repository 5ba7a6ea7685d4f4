package nn

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedAssemblyMatchesGenerator: gemm_amd64.s is what
// gen_kernels.go writes, so an edit to either alone cannot slip in.
func TestGeneratedAssemblyMatchesGenerator(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	dir := t.TempDir()
	gen, err := os.ReadFile("gen_kernels.go")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gen_kernels.go"), gen, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "run", "gen_kernels.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GO111MODULE=off") // a lone file outside the module
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_kernels.go: %v\n%s", err, out)
	}
	want, err := os.ReadFile(filepath.Join(dir, "gemm_amd64.s"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("gemm_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("gemm_amd64.s differs from what gen_kernels.go writes: run `go generate ./engine/nn` and commit both")
	}
}
