package sweep

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./sweep -update` to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is meant):\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func readSpec(t *testing.T) ([]byte, Spec) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", "spec.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSpec("spec.yaml", text)
	if err != nil {
		t.Fatal(err)
	}
	return text, s
}

// planned writes the test spec's sweep to a fixed-looking folder.
func planned(t *testing.T) *Sweep {
	t.Helper()
	text, s := readSpec(t)
	sw, err := s.Sweep(filepath.Join(t.TempDir(), "margins"))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := sw.Write(text); err != nil || !ok {
		t.Fatalf("write: planned %v, %v", ok, err)
	}
	return sw
}

func TestPlanGolden(t *testing.T) {
	sw := planned(t)
	// grid 2×2, random 3 draws, 2 seeds.
	if len(sw.Trials) != 24 {
		t.Fatalf("%d trials, want 24", len(sw.Trials))
	}
	for _, f := range []string{TrialsFile, SweepFile} {
		b, err := os.ReadFile(filepath.Join(sw.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "plan."+f, string(b))
	}
	// The same spec plans the same trials, in another folder or again here.
	_, s := readSpec(t)
	again, err := s.Sweep(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range again.Trials {
		if again.Trials[i].Name() != sw.Trials[i].Name() {
			t.Fatalf("trial %d: %s, then %s", i, sw.Trials[i].Name(), again.Trials[i].Name())
		}
	}
	text, _ := readSpec(t)
	if ok, err := sw.Write(text); err != nil || ok {
		t.Errorf("planning the same spec again: planned %v, %v; want a no-op", ok, err)
	}
	loaded, err := Load(sw.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range loaded.Trials {
		if tr.Name() != sw.Trials[i].Name() {
			t.Errorf("loaded trial %d: %s, want %s", i, tr.Name(), sw.Trials[i].Name())
		}
	}
	cfg, err := loaded.Config(loaded.Trials[19])
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Method != "proxyless" || cfg.Hyper.Margin != 0.5 || cfg.Seed != 2 || cfg.Teacher.Epochs != 2 {
		t.Errorf("trial 19 config: method %s margin %g seed %d teacher.epochs %d", cfg.Method, cfg.Hyper.Margin, cfg.Seed, cfg.Teacher.Epochs)
	}
}

func TestPlanRefusesADifferentPlanInTheSameFolder(t *testing.T) {
	sw := planned(t)
	s, err := ParseSpec("other.yaml", []byte("grid:\n  margin: [0.1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.Sweep(sw.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Write([]byte("x")); err == nil || !strings.Contains(err.Error(), "different sweep plan") {
		t.Errorf("got %v, want a refusal", err)
	}
	if _, err := Load(sw.Dir); err != nil {
		t.Errorf("the first plan was damaged: %v", err)
	}
}

func TestSpecErrorsNameTheProblem(t *testing.T) {
	for spec, want := range map[string]string{
		"grid:\n  margin: [3]\n":   "trial 0 (margin=3): margin=3: out of range",
		"grid:\n  marg: [0.3]\n":   `unknown knob "marg"`,
		"grdi:\n  margin: [0.3]\n": `line 1: unknown key "grdi"`,
		"grid:\n  margin: 0.3\n":   "s.yaml:2: grid.margin: want a list",
		"random:\n  count: 0\n":    "random.count 0",
		"random:\n  count: 2\n  knobs:\n    lambda: {min: 2, max: 1}\n": "want {min: A, max: B} with A ≤ B",
		"preset: huge\n": `unknown preset "huge"`,
		"":               "empty spec",
	} {
		s, err := ParseSpec("s.yaml", []byte(spec))
		if err == nil {
			_, err = s.Sweep(t.TempDir())
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("spec %q: got %v, want an error with %q", spec, err, want)
		}
	}
}

func TestSlurmScriptGolden(t *testing.T) {
	sw := planned(t)
	sw.Dir = "/scratch/alice/margins" // golden files hold no temp paths
	scripts, err := sw.SlurmScripts(SlurmOptions{Binary: "/opt/ccface/bin/ccface", Limit: 8, MaxArraySize: 10, CPUs: 4,
		Time: "2:00:00", Partition: "cpu", SignalLead: 120})
	if err != nil {
		t.Fatal(err)
	}
	// 24 trials above MaxArraySize 10: arrays of 10, 10 and 4.
	if len(scripts) != 3 || scripts[2].Offset != 20 || scripts[2].Count != 4 {
		t.Fatalf("chunks: %+v", scripts)
	}
	var all strings.Builder
	for _, s := range scripts {
		all.WriteString("==> " + s.Path + " <==\n" + s.Text)
	}
	golden(t, "slurm.golden", all.String())

	one, err := sw.SlurmScripts(SlurmOptions{Binary: "/usr/bin/ccface", Limit: 2, MaxArraySize: 1001, CPUs: 2, SignalLead: 120})
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != 1 || !strings.Contains(one[0].Text, "#SBATCH --array=0-23%2\n") ||
		!strings.HasSuffix(one[0].Text, "exec /usr/bin/ccface train --headless --sweep /scratch/alice/margins\n") {
		t.Errorf("one chunk:\n%s", one[0].Text)
	}
}

func TestParseMaxArraySize(t *testing.T) {
	conf := "MaxArraySize            = 3\nMaxJobCount             = 10000\n"
	if n, ok := ParseMaxArraySize(conf); !ok || n != 3 {
		t.Errorf("got %d %v", n, ok)
	}
	if _, ok := ParseMaxArraySize("MaxJobCount = 10\n"); ok {
		t.Error("found MaxArraySize where there is none")
	}
}

func TestK8sManifestGolden(t *testing.T) {
	sw := planned(t)
	claim, job, err := sw.K8sManifest(K8sOptions{Image: "registry.example/ccface:1.0", Parallelism: 6, BackoffLimit: 3,
		PVC: "ccface-sweep", StorageSize: "20Gi", MountPath: "/sweep", CPUs: "2", Memory: "2Gi", GracePeriod: 120})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "k8s.golden", claim+"---\n"+job)
	if _, _, err := sw.K8sManifest(K8sOptions{Parallelism: 1, PVC: "p", MountPath: "/s"}); err == nil || !strings.Contains(err.Error(), "--image") {
		t.Errorf("no image: got %v", err)
	}
}

func TestResolveIndexOrder(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	both := env(map[string]string{EnvSlurmTask: "7", EnvK8sIndex: "9"})
	for _, c := range []struct {
		flag   string
		getenv func(string) string
		want   int
		source string
	}{
		{"3", both, 3, "--index"},
		{"", both, 7, EnvSlurmTask},
		{"", env(map[string]string{EnvK8sIndex: "9"}), 9, EnvK8sIndex},
	} {
		n, src, err := ResolveIndex(c.flag, c.getenv)
		if err != nil || n != c.want || src != c.source {
			t.Errorf("flag %q: got %d from %s (%v), want %d from %s", c.flag, n, src, err, c.want, c.source)
		}
	}
	if _, _, err := ResolveIndex("", env(nil)); err == nil || !strings.Contains(err.Error(), "--index") {
		t.Errorf("no index anywhere: got %v", err)
	}
	if _, _, err := ResolveIndex("", env(map[string]string{EnvSlurmTask: "x"})); err == nil || !strings.Contains(err.Error(), `SLURM_ARRAY_TASK_ID="x"`) {
		t.Errorf("bad index: got %v", err)
	}
}

// katibDefaultFilter is Katib's default StdOut metrics filter
// (pkg/metricscollector/v1beta1/common/const.go).
var katibDefaultFilter = regexp.MustCompile(`([\w|-]+)\s*=\s*((-?\d+)(\.\d+)?)`)

func TestKatibLinesParseWithKatibsDefaultFilter(t *testing.T) {
	metrics := map[string]float64{"lr8.rank1": 0.0000123, "hr.verif_acc": 0.9875, "loss": -1.5e-7, "step": 1200,
		"big": 12345678.9, "nan": nan()}
	lines := KatibLines(metrics)
	want := []string{"big=12345678.9", "hr_verif_acc=0.9875", "loss=0", "lr8_rank1=0.000012", "step=1200"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %q, want %q", lines, want)
	}
	for _, l := range lines {
		m := katibDefaultFilter.FindStringSubmatch(l)
		if m == nil || m[0] != l {
			t.Errorf("Katib's filter reads %q as %q: part of the line would be lost", l, m)
		}
	}
}

func TestParseSqueueAndStatus(t *testing.T) {
	sw := planned(t)
	jobs := []SlurmJob{{"100", 0}, {"101", 20}}
	q := ParseSqueue("100_3 RUNNING\n100_4 PENDING\n101_1 PENDING\n999_0 RUNNING\n", jobs)
	if len(q) != 3 || q[3] != "RUNNING" || q[4] != "PENDING" || q[21] != "PENDING" {
		t.Fatalf("queue: %v", q)
	}
	list, _, err := sw.Status(q)
	if err != nil {
		t.Fatal(err)
	}
	if list[3].State != StateRunning || list[4].State != StateQueued || list[0].State != StateQueued {
		t.Errorf("states: %s %s %s", list[3].State, list[4].State, list[0].State)
	}
	if out := FormatStatus(list); !strings.Contains(out, "24 trials: 23 queued, 1 running") {
		t.Errorf("status:\n%s", out)
	}
}

func nan() float64 { return math.NaN() }
