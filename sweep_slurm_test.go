package main

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/train"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/sweep"
)

// slurmSpec is a 4-trial sweep of a few seconds per trial. One replica:
// exact resume needs the same thread split on every attempt.
const slurmSpec = `name: slurmtest
preset: tiny
set:
  teacher.epochs: 2
  student.epochs: 1
  replicas: 1
  ckpt.every_minutes: 0
grid:
  margin: [0.3, 0.5]
seeds: [1, 2]
`

// TestSweepOnSlurm submits a 4-trial sweep to a real single-node Slurm
// (munged, slurmctld and slurmd started here), sends one trial Slurm's
// pre-timeout USR1 mid-run, and checks that all four finish and that the
// interrupted one requeued itself, resumed from its checkpoint, and ended
// exactly where an uninterrupted run of it ends. About a minute on 2 cores.
func TestSweepOnSlurm(t *testing.T) {
	if os.Getenv("CCFACE_SLURM_TEST") == "" {
		t.Skip("set CCFACE_SLURM_TEST=1 to run a sweep on a real single-node Slurm (needs root and Debian's slurm-wlm and munge; .ci/run does)")
	}
	conf := startSlurm(t)
	work := shortTempDir(t)
	bin := filepath.Join(work, "ccface")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env := append(os.Environ(), "SLURM_CONF="+conf)
	ccface := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ccface %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	specPath := filepath.Join(work, "slurmtest.yaml")
	if err := os.WriteFile(specPath, []byte(slurmSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "swept")
	ccface("sweep", "plan", specPath, "--out", dir)
	// The cluster's MaxArraySize is 3 (see startSlurm), so 4 trials need two
	// arrays: the second one's task 0 is trial 3.
	out := ccface("sweep", "slurm", dir, "--cpus", "1", "--limit", "2", "--submit")
	sw, err := sweep.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := sw.SlurmJobs()
	if err != nil || len(jobs) != 2 || jobs[1].Offset != 3 {
		t.Fatalf("submitted arrays %+v (%v), want two, the second at offset 3:\n%s", jobs, err, out)
	}
	t.Cleanup(func() {
		for _, j := range jobs {
			exec.Command("scancel", j.ID).Run()
		}
	})
	dump := func() {
		logs, _ := filepath.Glob(filepath.Join(dir, sweep.LogsDir, "*"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("==> %s <==\n%s", l, b)
		}
		q, _ := exec.Command("squeue", "-r").CombinedOutput()
		t.Logf("squeue:\n%s", q)
	}

	// Trial 1 (task 1 of the first array) gets USR1 mid-run.
	const victim = 1
	task := fmt.Sprintf("%s_%d", jobs[0].ID, victim)
	victimDir := filepath.Join(sw.TrialsRoot(), sw.Trials[victim].ID())
	waitFor(t, 90*time.Second, dump, "trial 1 to pass step 10", func() bool { return lastPointStep(victimDir) >= 10 })
	if b, err := exec.Command("scancel", "--signal=USR1", "--batch", task).CombinedOutput(); err != nil {
		t.Fatalf("scancel --signal=USR1 %s: %v %s", task, err, b)
	}
	// Slurm makes a requeued job wait 120 s before it may start again (its
	// own rule); the test lets it start at once.
	waitFor(t, 60*time.Second, dump, "trial 1 to requeue itself", func() bool {
		b, _ := exec.Command("squeue", "-h", "-r", "-j", task, "-o", "%T").Output()
		return strings.TrimSpace(string(b)) == "PENDING"
	})
	if b, err := exec.Command("scontrol", "update", "JobId="+task, "StartTime=now").CombinedOutput(); err != nil {
		t.Fatalf("scontrol update %s StartTime=now: %v %s", task, err, b)
	}
	waitFor(t, 4*time.Minute, dump, "all 4 trials to finish", func() bool {
		list, _, err := sw.Status(nil)
		if err != nil {
			return false
		}
		return sweep.AllEnded(list)
	})
	list, _, _ := sw.Status(nil)
	for _, s := range list {
		if s.State != sweep.StateFinished {
			dump()
			t.Fatalf("trial %d ended %s", s.Trial.Index, s.State)
		}
	}
	status := ccface("sweep", "status", dir)
	if !strings.Contains(status, "4 trials: 0 queued, 0 running, 4 finished") {
		t.Errorf("sweep status:\n%s", status)
	}

	// The victim's events: stopped by USR1 at step S, then a start at S.
	events, _, err := sessions.ReadEvents(victimDir)
	if err != nil {
		t.Fatal(err)
	}
	stopAt, resumedAt := int64(-1), int64(-1)
	for _, ev := range events {
		if ev.Kind == engine.KindDone && strings.HasPrefix(ev.Message, "stopped") {
			stopAt = ev.Step
		}
		if ev.Kind == engine.KindStart && stopAt >= 0 {
			resumedAt = ev.Step
		}
	}
	if stopAt < 10 || resumedAt != stopAt {
		dump()
		t.Fatalf("trial 1: stopped at step %d, resumed at %d: want a stop after step 10 and a resume from it", stopAt, resumedAt)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, sweep.LogsDir, task+".out"))
	if len(logs) != 1 {
		t.Fatalf("no Slurm log of %s", task)
	}
	logText, _ := os.ReadFile(logs[0])
	for _, want := range []string{"USR1", "requeued Slurm task " + task, fmt.Sprintf("resuming t0001 from step %d", stopAt), "lr_rank1="} {
		if !bytes.Contains(logText, []byte(want)) {
			t.Errorf("the log of %s lacks %q:\n%s", task, want, logText)
		}
	}

	// The same trial, uninterrupted, outside Slurm.
	ref := filepath.Join(work, "reference")
	ccface("sweep", "plan", specPath, "--out", ref)
	ccface("train", "--headless", "--sweep", ref, "--index", fmt.Sprint(victim))
	refDir := filepath.Join(ref, sweep.TrialsDir, sw.Trials[victim].ID())
	if a, b := finalWeights(t, refDir), finalWeights(t, victimDir); !maps.EqualFunc(a, b, slices.Equal) {
		t.Error("the resumed trial's final weights differ from an uninterrupted run's")
	}
	a, b := timelineValues(t, refDir), timelineValues(t, victimDir)
	if len(a) != len(b) {
		t.Fatalf("uninterrupted run recorded %d steps and evaluations, the resumed one %d", len(a), len(b))
	}
	for k, v := range a {
		if !maps.Equal(v, b[k]) {
			t.Errorf("%s: uninterrupted %v, resumed %v", k, v, b[k])
			break
		}
	}
}

// finalWeights loads the weights of a session's latest checkpoint.
func finalWeights(t *testing.T, dir string) map[string][]float32 {
	t.Helper()
	s, err := sessions.Open("", dir)
	if err != nil {
		t.Fatal(err)
	}
	_, blob, _, err := s.LatestGoodCheckpoint(-1)
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := train.CheckpointWeights(blob)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// timelineValues maps each recorded point and evaluation of a session's
// timeline to its values, less wall-clock throughput.
func timelineValues(t *testing.T, dir string) map[string]map[string]float64 {
	t.Helper()
	events, _, err := sessions.ReadEvents(dir)
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := sessions.Timeline(events)
	out := map[string]map[string]float64{}
	for _, ev := range kept {
		if ev.Kind == engine.KindPoint || ev.Kind == engine.KindEval {
			v := maps.Clone(ev.Values)
			delete(v, engine.MImgPerSec)
			model, _, _ := strings.Cut(ev.Message, " ") // the rest holds the evaluation's wall time
			out[fmt.Sprintf("%s@%d %s", ev.Kind, ev.Step, model)] = v
		}
	}
	return out
}

// lastPointStep is the step of a session's last recorded point, -1 if none.
func lastPointStep(dir string) int64 {
	events, _, err := sessions.ReadEvents(dir)
	if err != nil {
		return -1
	}
	step := int64(-1)
	for _, ev := range events {
		if ev.Kind == engine.KindPoint {
			step = ev.Step
		}
	}
	return step
}

func waitFor(t *testing.T, limit time.Duration, dump func(), what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			dump()
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// shortTempDir is a temp dir under /tmp: munged's socket path must be
// short, and every directory above it searchable by all.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "ccface-slurm-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// startSlurm starts munged, slurmctld and slurmd on this machine with a
// generated configuration, and returns its path (for SLURM_CONF). It skips
// the test, naming what is missing, where they cannot start.
func startSlurm(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("the Slurm test starts slurmd and munged, which needs root on Linux")
	}
	var missing []string
	for _, b := range []string{"munged", "slurmctld", "slurmd", "sbatch", "scontrol", "squeue", "scancel", "sinfo"} {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		t.Skipf("Slurm test: %s not found: install Debian's slurm-wlm and munge (`apt-get install slurm-wlm munge`; .ci/run does)", strings.Join(missing, ", "))
	}
	dir := shortTempDir(t)
	key := make([]byte, 1024)
	if f, err := os.Open("/dev/urandom"); err == nil {
		f.Read(key)
		f.Close()
	}
	if err := os.WriteFile(filepath.Join(dir, "munge.key"), key, 0o400); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"state", "spool"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ = strings.Cut(host, ".")
	cpus := min(runtime.NumCPU(), 2)
	conf := filepath.Join(dir, "slurm.conf")
	text := fmt.Sprintf(`ClusterName=ccfacetest
SlurmctldHost=%[1]s(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=%[2]d
SlurmdPort=%[3]d
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=%[4]s/munge.sock
StateSaveLocation=%[4]s/state
SlurmdSpoolDir=%[4]s/spool
SlurmctldPidFile=%[4]s/slurmctld.pid
SlurmdPidFile=%[4]s/slurmd.pid
SlurmctldLogFile=%[4]s/slurmctld.log
SlurmdLogFile=%[4]s/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
MaxArraySize=3
NodeName=%[1]s NodeAddr=127.0.0.1 CPUs=%[5]d State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`, host, freePort(t), freePort(t), dir, cpus)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLURM_CONF", conf)
	daemon := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		logf, err := os.Create(filepath.Join(dir, name+".out"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = append(os.Environ(), "SLURM_CONF="+conf)
		if err := cmd.Start(); err != nil {
			t.Skipf("Slurm test: cannot start %s: %v", name, err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
			logf.Close()
		})
	}
	daemon("munged", "-F", "--force", "--socket="+dir+"/munge.sock", "--key-file="+dir+"/munge.key",
		"--log-file="+dir+"/munged.log", "--pid-file="+dir+"/munged.pid", "--seed-file="+dir+"/munged.seed")
	daemon("slurmctld", "-D", "-i", "-f", conf)
	daemon("slurmd", "-D", "-N", host, "-f", conf)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command("sinfo", "-h", "-N", "-o", "%T").CombinedOutput()
		if err == nil && strings.TrimSpace(string(out)) == "idle" {
			return conf
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, f := range []string{"munged.out", "slurmctld.out", "slurmd.out", "slurmctld.log", "slurmd.log"} {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				fmt.Fprintf(&logs, "==> %s <==\n%s\n", f, b)
			}
			t.Skipf("Slurm test: the single-node cluster did not come up in 30 s (sinfo: %q, %v):\n%s", out, err, logs.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
