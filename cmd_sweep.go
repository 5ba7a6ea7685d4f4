package main

import (
	"fmt"
	"io"

	"github.com/ccface/ccface/sweep"
)

const sweepUsage = `ccface sweep: plan trials and hand them to Slurm or Kubernetes

  ccface sweep plan SPEC [--out DIR]   a sweep folder with one trial per line (DIR: SPEC's name without .yaml)
  ccface sweep slurm DIR [--submit]    sbatch array script(s) in DIR/slurm; --submit runs sbatch
  ccface sweep k8s DIR --image IMG     an Indexed Job manifest in DIR/k8s/job.yaml
  ccface sweep status DIR [--watch 10s]
                                       each trial's state, step and best LR rank-1
  ccface sweep watch DIR [--every 3s]  the TUI on a sweep: live table of trials, the best marked,
                                       space overlays chosen trials' curves
  ccface compare --sweep DIR [--out D] the sweep's results as compare's tables (mean ± std over seeds)
  ccface train --headless --sweep DIR [--index N]
                                       run one trial (index from --index, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)
`

func cmdSweep(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("ccface sweep: want plan, slurm, k8s, status or watch:\n%s%w", sweepUsage, errUsage)
	}
	switch args[0] {
	case "plan":
		return cmdSweepPlan(args[1:], stdout, stderr)
	case "slurm":
		return cmdSweepSlurm(args[1:], stdout, stderr)
	case "k8s":
		return cmdSweepK8s(args[1:], stdout, stderr)
	case "status":
		return cmdSweepStatus(args[1:], stdout, stderr)
	case "watch":
		return cmdSweepWatch(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, sweepUsage)
		return nil
	}
	return fmt.Errorf("ccface sweep %s: unknown; want plan, slurm, k8s, status or watch: %w", args[0], errUsage)
}

func cmdSweepPlan(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sweep plan", stderr)
	out := fs.String("out", "", "sweep folder to create (default: the spec's file name without its extension)")
	spec, err := oneArg(fs, args, "sweep plan wants one spec file")
	if err != nil {
		return err
	}
	return sweep.PlanFile(spec, *out, stdout)
}

func cmdSweepSlurm(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sweep slurm", stderr)
	var o sweep.SlurmOptions
	fs.IntVar(&o.Limit, "limit", 4, "trials of one array running at once (the %N of --array)")
	fs.IntVar(&o.CPUs, "cpus", 2, "CPUs per trial (--cpus-per-task)")
	fs.StringVar(&o.Time, "time", "", "time limit per attempt, e.g. 4:00:00 (default: the partition's)")
	fs.StringVar(&o.Partition, "partition", "", "partition (default: the cluster's default)")
	fs.IntVar(&o.MaxArraySize, "max-array-size", 0, "the cluster's MaxArraySize (default: read from `scontrol show config`, else 1001)")
	fs.IntVar(&o.SignalLead, "signal-lead", 120, "seconds before the time limit that a trial checkpoints and requeues itself")
	fs.StringVar(&o.Binary, "ccface", "", "path of ccface on the compute nodes (default: this binary)")
	submit := fs.Bool("submit", false, "submit the script(s) with `sbatch --parsable`")
	dir, err := oneArg(fs, args, "sweep slurm wants one sweep folder (made by `ccface sweep plan`)")
	if err != nil {
		return err
	}
	sw, err := sweep.Load(dir)
	if err != nil {
		return err
	}
	scripts, err := sw.WriteSlurmScripts(o, stdout)
	if err != nil {
		return err
	}
	if !*submit {
		fmt.Fprintf(stdout, "submit with `sbatch %s` (or rerun with --submit); watch with `ccface sweep status %s`\n", scripts[0].Path, dir)
		return nil
	}
	return sw.SubmitSlurm(scripts, stdout, stderr)
}

func cmdSweepK8s(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sweep k8s", stderr)
	var o sweep.K8sOptions
	fs.StringVar(&o.Image, "image", "", "container image with ccface on its PATH and /bin/sh (required)")
	fs.IntVar(&o.Parallelism, "parallelism", 4, "trials running at once")
	fs.IntVar(&o.BackoffLimit, "backoff-limit", 3, "retries of one trial before it counts as failed (backoffLimitPerIndex)")
	fs.StringVar(&o.PVC, "pvc", "ccface-sweep", "PersistentVolumeClaim holding the sweep folder")
	fs.StringVar(&o.StorageSize, "storage", "10Gi", "size of the claim to create; empty to use an existing claim")
	fs.StringVar(&o.StorageClass, "storage-class", "", "storage class of the claim (ReadWriteMany; default: the cluster's)")
	fs.StringVar(&o.MountPath, "mount", "/sweep", "where the sweep folder is mounted in each pod")
	fs.StringVar(&o.CPUs, "cpus", "2", "CPU request and limit of a trial")
	fs.StringVar(&o.Memory, "memory", "2Gi", "memory request and limit of a trial")
	fs.IntVar(&o.GracePeriod, "grace", 120, "seconds between SIGTERM and SIGKILL, for the final checkpoint")
	fs.StringVar(&o.Namespace, "namespace", "", "namespace (default: kubectl's current one)")
	dir, err := oneArg(fs, args, "sweep k8s wants one sweep folder (made by `ccface sweep plan`)")
	if err != nil {
		return err
	}
	sw, err := sweep.Load(dir)
	if err != nil {
		return err
	}
	return sw.WriteK8s(o, stdout)
}

func cmdSweepStatus(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sweep status", stderr)
	watch := fs.Duration("watch", 0, "redraw every interval until every trial has ended (polls: shared filesystems miss change events)")
	dir, err := oneArg(fs, args, "sweep status wants one sweep folder (made by `ccface sweep plan`)")
	if err != nil {
		return err
	}
	sw, err := sweep.Load(dir)
	if err != nil {
		return err
	}
	if *watch < 0 {
		return fmt.Errorf("--watch %s: want a positive interval", *watch)
	}
	return sw.PrintStatus(stdout, stderr, *watch)
}
