package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// meanStdPct is the population mean ± std of xs in percent, as compare
// reports them, computed here on its own.
func meanStdPct(xs ...float64) (float64, float64) {
	var sum float64
	for _, x := range xs {
		sum += 100 * x
	}
	mean := sum / float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (100*x - mean) * (100*x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)))
}

// TestCompareSweepTable tabulates the fixture sweep (7 of 12 trials
// finished) with `ccface compare --sweep` and checks the rows against the
// values the fixture wrote: the last student evaluation of each finished
// trial, mean ± std over its seeds, the paired difference to proxyless per
// seed, and the unfinished trials named.
func TestCompareSweepTable(t *testing.T) {
	sw, _ := fixtureSweep(t)
	code, out, errs := runCLI(t, "compare", "--sweep", sw.Dir)
	if code != 0 {
		t.Fatalf("compare --sweep: exit %d\n%s%s", code, out, errs)
	}
	md, err := os.ReadFile(filepath.Join(sw.Dir, "compare", "compare.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, string(md)) {
		t.Errorf("the printed table is not compare.md:\n%s", out)
	}
	row := func(prefix string) []string {
		for _, l := range strings.Split(string(md), "\n") {
			if strings.HasPrefix(l, prefix) {
				return strings.Split(strings.Trim(l, "| "), " | ")
			}
		}
		t.Fatalf("no row %q in:\n%s", prefix, md)
		return nil
	}
	head := row("| method | margin | n |")
	col := func(name string) int {
		for i, h := range head {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %q in %q", name, head)
		return -1
	}
	r1, paired := col("lr8.rank1"), col("lr8.rank1 vs proxyless (paired)")

	cc03 := row("| ccface | 0.3 |")
	m, s := meanStdPct(fixtureLR8("ccface", "0.3", 1), fixtureLR8("ccface", "0.3", 2), fixtureLR8("ccface", "0.3", 3))
	if want := fmt.Sprintf("%.1f ± %.1f", m, s); cc03[r1] != want || cc03[col("n")] != "3/3" {
		t.Errorf("ccface 0.3: n %s, lr8.rank1 %q, want 3/3 and %q (the last student evaluation, not the teacher's or step 450's)", cc03[col("n")], cc03[r1], want)
	}
	var diffs []float64
	for seed := int64(1); seed <= 3; seed++ {
		diffs = append(diffs, fixtureLR8("ccface", "0.3", seed)-fixtureLR8("proxyless", "0.3", seed))
	}
	m, s = meanStdPct(diffs...)
	if want := fmt.Sprintf("%+.1f ± %.1f", m, s); cc03[paired] != want {
		t.Errorf("ccface 0.3 paired: %q, want %q", cc03[paired], want)
	}
	cc05 := row("| ccface | 0.5 |") // only seed 1 finished; its proxyless twin failed
	if want := fmt.Sprintf("%.1f", 100*fixtureLR8("ccface", "0.5", 1)); cc05[r1] != want || cc05[col("n")] != "1/3" || cc05[paired] != "-" {
		t.Errorf("ccface 0.5: %q", cc05)
	}
	px03 := row("| proxyless | 0.3 |")
	if px03[paired] != "-" || px03[col("n")] != "3/3" {
		t.Errorf("the baseline row has no paired difference of its own: %q", px03)
	}
	px05 := row("| proxyless | 0.5 |")
	if px05[col("n")] != "0/3" || px05[r1] != "-" {
		t.Errorf("proxyless 0.5 has no finished trial: %q", px05)
	}
	for _, want := range []string{
		"Not in the table (5 unfinished):",
		"- trial 4 (t0004, method=ccface margin=0.5 seed=2): running, step 420/600",
		"- trial 5 (t0005, method=ccface margin=0.5 seed=3): queued\n",
		"- trial 9 (t0009, method=proxyless margin=0.5 seed=1): failed, step 150/600",
		"- trial 10 (t0010, method=proxyless margin=0.5 seed=2): interrupted, step 200/600",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("compare.md lacks %q:\n%s", want, md)
		}
	}

	f, err := os.Open(filepath.Join(sw.Dir, "compare", "compare.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "method,margin,metric,mean_pct,std_pct,seeds" {
		t.Errorf("CSV header %q", got)
	}
	found := false
	for _, r := range recs {
		if r[0] == "ccface" && r[1] == "0.3" && r[2] == "lr8.rank1 vs proxyless (paired)" {
			found = r[3] == fmt.Sprintf("%.4f", m) && r[5] == "3"
		}
	}
	if !found {
		t.Errorf("no paired row for ccface 0.3 with mean %.4f over 3 seeds in the CSV", m)
	}

	var js struct {
		Finished   int `json:"finished"`
		Unfinished []struct {
			ID string `json:"id"`
		} `json:"unfinished"`
		Rows []struct {
			Settings map[string]string `json:"settings"`
			PerSeed  []struct {
				Seed   int64              `json:"seed"`
				Values map[string]float64 `json:"values"`
			} `json:"per_seed"`
		} `json:"rows"`
	}
	b, err := os.ReadFile(filepath.Join(sw.Dir, "compare", "compare.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatal(err)
	}
	if js.Finished != 7 || len(js.Unfinished) != 5 || len(js.Rows) != 4 {
		t.Fatalf("JSON: %d finished, %d unfinished, %d rows; want 7, 5, 4", js.Finished, len(js.Unfinished), len(js.Rows))
	}
	if ps := js.Rows[0].PerSeed; len(ps) != 3 || ps[2].Seed != 3 || ps[2].Values["lr8.rank1"] != fixtureLR8("ccface", "0.3", 3) {
		t.Errorf("JSON per-seed values of ccface 0.3: %+v", ps)
	}
}

func TestCompareSweepRefusals(t *testing.T) {
	sw, _ := fixtureSweep(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--sweep", sw.Dir, "--seeds", "2"}, "--seeds does not apply to --sweep"},
		{[]string{"--sweep", sw.Dir, "--baseline", "arcface-aug"}, "--baseline arcface-aug: the sweep's methods are ccface, proxyless"},
		{[]string{"--baseline", "proxyless"}, "goes with --sweep DIR"},
		{[]string{"--sweep", t.TempDir()}, "is not a sweep folder"},
	} {
		code, out, errs := runCLI(t, append([]string{"compare"}, c.args...)...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("compare %q: exit %d, want an error with %q\n%s%s", c.args, code, c.want, out, errs)
		}
	}
	// --baseline picks the other side: ccface is now the reference row.
	out := filepath.Join(t.TempDir(), "tables")
	if code, stdout, errs := runCLI(t, "compare", "--sweep", sw.Dir, "--baseline", "ccface", "--out", out); code != 0 ||
		!strings.Contains(stdout, "lr8.rank1 vs ccface (paired)") {
		t.Errorf("--baseline ccface: exit %d\n%s%s", code, stdout, errs)
	}
	if _, err := os.Stat(filepath.Join(out, "compare.md")); err != nil {
		t.Errorf("--out: %v", err)
	}
}
