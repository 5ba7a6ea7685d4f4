package sweep

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ccface/ccface/sessions"
)

// DefaultMaxArraySize is Slurm's default MaxArraySize (array indices 0..1000).
const DefaultMaxArraySize = 1001

// SlurmOptions shape the sbatch scripts of a sweep.
type SlurmOptions struct {
	Binary       string // absolute path of the ccface binary on the compute nodes
	Limit        int    // trials of one array running at once (%limit)
	MaxArraySize int    // the cluster's MaxArraySize: an array index is below it
	CPUs         int    // --cpus-per-task
	Time         string // --time, "" for the partition's default
	Partition    string // --partition, "" for the default one
	SignalLead   int    // seconds before the time limit that USR1 is sent
}

// SlurmScript is one sbatch script: the trials Offset..Offset+Count-1, as
// array tasks 0..Count-1.
type SlurmScript struct {
	Path   string
	Offset int
	Count  int
	Text   string
}

// SlurmScripts renders the sbatch scripts of a sweep, one per chunk of at
// most MaxArraySize trials: Slurm refuses array indices at or above it, so
// later chunks add their offset to SLURM_ARRAY_TASK_ID.
func (sw *Sweep) SlurmScripts(o SlurmOptions) ([]SlurmScript, error) {
	if o.MaxArraySize < 1 {
		return nil, fmt.Errorf("MaxArraySize %d: want at least 1", o.MaxArraySize)
	}
	if o.Limit < 1 {
		return nil, fmt.Errorf("--limit %d: want at least 1 trial running at once", o.Limit)
	}
	if o.CPUs < 1 {
		return nil, fmt.Errorf("--cpus %d: want at least 1", o.CPUs)
	}
	if len(sw.Trials) == 0 {
		return nil, fmt.Errorf("%s: the sweep has no trials", sw.Dir)
	}
	var out []SlurmScript
	for off := 0; off < len(sw.Trials); off += o.MaxArraySize {
		n := min(o.MaxArraySize, len(sw.Trials)-off)
		name := "sweep.sbatch"
		if len(sw.Trials) > o.MaxArraySize {
			name = fmt.Sprintf("sweep-%d.sbatch", off/o.MaxArraySize)
		}
		out = append(out, SlurmScript{Path: filepath.Join(sw.Dir, SlurmDir, name), Offset: off, Count: n,
			Text: sw.slurmScript(o, off, n)})
	}
	return out, nil
}

func (sw *Sweep) slurmScript(o SlurmOptions, offset, count int) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("#!/bin/sh")
	p("# ccface sweep %s: trials %d..%d of %d (array task i runs trial i+%d).", sw.Name, offset, offset+count-1, len(sw.Trials), offset)
	p("# Written by `ccface sweep slurm`; submit with sbatch, or `ccface sweep slurm --submit`.")
	p("#SBATCH --job-name=ccface-%s", sw.Name)
	p("#SBATCH --array=0-%d%%%d", count-1, o.Limit)
	p("#SBATCH --cpus-per-task=%d", o.CPUs)
	if o.Time != "" {
		p("#SBATCH --time=%s", o.Time)
	}
	if o.Partition != "" {
		p("#SBATCH --partition=%s", o.Partition)
	}
	// Both streams of every attempt of a task go to one file, appended to
	// across requeues rather than truncated.
	p("#SBATCH --output=%s", filepath.Join(sw.Dir, LogsDir, "%A_%a.out"))
	p("#SBATCH --open-mode=append")
	// USR1 to the batch shell (B:) ahead of the time limit: ccface then
	// checkpoints and requeues its own task, which resumes from the checkpoint.
	p("#SBATCH --signal=B:USR1@%d", o.SignalLead)
	p("#SBATCH --requeue")
	p("")
	// exec: ccface becomes the batch shell, so the signals reach it.
	index := ""
	if offset > 0 {
		index = fmt.Sprintf(" --index $((SLURM_ARRAY_TASK_ID + %d))", offset)
	}
	p("exec %s train --headless --sweep %s%s", shellQuote(o.Binary), shellQuote(sw.Dir), index)
	return b.String()
}

// shellQuote quotes s for sh when it holds anything but safe characters.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ParseMaxArraySize finds MaxArraySize in the output of `scontrol show config`.
func ParseMaxArraySize(config string) (int, bool) {
	sc := bufio.NewScanner(strings.NewReader(config))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.TrimSpace(k) == "MaxArraySize" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil && n > 0
		}
	}
	return 0, false
}

// SlurmJob is one submitted array: its job id and the trial index of its task 0.
type SlurmJob struct {
	ID     string
	Offset int
}

// jobsFile records submitted arrays, one "jobid offset" a line.
const jobsFile = "jobs.txt"

// RecordSlurmJob appends a submitted array to the sweep's record, which
// status reads to ask squeue about the sweep's tasks.
func (sw *Sweep) RecordSlurmJob(j SlurmJob) error {
	f, err := os.OpenFile(filepath.Join(sw.Dir, SlurmDir, jobsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("record Slurm job %s: %w", j.ID, err)
	}
	if _, err := fmt.Fprintf(f, "%s %d\n", j.ID, j.Offset); err != nil {
		f.Close()
		return fmt.Errorf("record Slurm job %s: %w", j.ID, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("record Slurm job %s: %w", j.ID, err)
	}
	return f.Close()
}

// SlurmJobs lists the arrays submitted for the sweep, oldest first.
func (sw *Sweep) SlurmJobs() ([]SlurmJob, error) {
	b, err := os.ReadFile(filepath.Join(sw.Dir, SlurmDir, jobsFile))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Slurm jobs: %w", err)
	}
	var out []SlurmJob
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		id, off, ok := strings.Cut(strings.TrimSpace(line), " ")
		n, err := strconv.Atoi(off)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s:%d: want \"jobid offset\"", filepath.Join(sw.Dir, SlurmDir, jobsFile), i+1)
		}
		out = append(out, SlurmJob{ID: id, Offset: n})
	}
	return out, nil
}

// ParseSbatchParsable reads the job id printed by `sbatch --parsable`
// ("jobid" or "jobid;cluster").
func ParseSbatchParsable(out string) (string, error) {
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("sbatch printed %q, not a job id", strings.TrimSpace(out))
	}
	return id, nil
}

// clusterMaxArraySize is the MaxArraySize of the cluster `scontrol show
// config` describes, else DefaultMaxArraySize.
func clusterMaxArraySize() int {
	if out, err := exec.Command("scontrol", "show", "config").Output(); err == nil {
		if n, ok := ParseMaxArraySize(string(out)); ok {
			return n
		}
	}
	return DefaultMaxArraySize
}

// WriteSlurmScripts writes the sweep's sbatch scripts (SlurmScripts) into
// its slurm folder and says so on w. An empty o.Binary is this program; a
// zero o.MaxArraySize is the cluster's (clusterMaxArraySize).
func (sw *Sweep) WriteSlurmScripts(o SlurmOptions, w io.Writer) ([]SlurmScript, error) {
	if o.Binary == "" {
		bin, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find this binary's path: %w; pass --ccface PATH", err)
		}
		o.Binary = bin
	}
	if o.MaxArraySize == 0 {
		o.MaxArraySize = clusterMaxArraySize()
	}
	scripts, err := sw.SlurmScripts(o)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(sw.Dir, SlurmDir), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", SlurmDir, err)
	}
	for _, s := range scripts {
		if err := sessions.WriteFileAtomic(s.Path, []byte(s.Text), 0o755); err != nil {
			return nil, fmt.Errorf("write sbatch script: %w", err)
		}
		fmt.Fprintf(w, "wrote %s: trials %d..%d\n", s.Path, s.Offset, s.Offset+s.Count-1)
	}
	return scripts, nil
}

// SubmitSlurm submits the scripts with `sbatch --parsable` (its errors on
// stderr) and records each job for SlurmQueue.
func (sw *Sweep) SubmitSlurm(scripts []SlurmScript, w, stderr io.Writer) error {
	for _, s := range scripts {
		cmd := exec.Command("sbatch", "--parsable", s.Path)
		cmd.Stderr = stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("sbatch %s: %w", s.Path, err)
		}
		id, err := ParseSbatchParsable(string(out))
		if err != nil {
			return err
		}
		if err := sw.RecordSlurmJob(SlurmJob{ID: id, Offset: s.Offset}); err != nil {
			return err
		}
		fmt.Fprintf(w, "submitted job %s: trials %d..%d\n", id, s.Offset, s.Offset+s.Count-1)
	}
	return nil
}

// SlurmQueue asks squeue about the sweep's submitted arrays; nil without
// Slurm or without submitted jobs.
func (sw *Sweep) SlurmQueue() map[int]string {
	jobs, err := sw.SlurmJobs()
	if err != nil || len(jobs) == 0 {
		return nil
	}
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	out, err := exec.Command("squeue", "-h", "-r", "-o", "%i %T", "-j", strings.Join(ids, ",")).Output()
	if err != nil {
		return nil
	}
	return ParseSqueue(string(out), jobs)
}
