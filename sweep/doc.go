// Package sweep owns ccface's sweeps: many training trials planned from one
// spec and handed to a scheduler (Slurm job arrays, Kubernetes Indexed Jobs,
// or a shell loop on a laptop) instead of a scheduler of ccface's own.
//
// It owns the layout of a sweep folder and every byte written into it:
//
//	<dir>/
//	    spec.yaml        the spec the plan was made from, as given
//	    sweep.json       what every trial shares: preset, data, fixed knobs, teacher
//	    trials.tsv       one trial a line: index, name, knob settings
//	    trials/t0003/    trial 3's session (a sessions.Session with ID t0003):
//	                     a fixed path, so a requeued or restarted task resumes it
//	    logs/            scheduler logs (Slurm's %A_%a files)
//	    slurm/           sbatch scripts and the ids of submitted jobs
//	    k8s/             the Indexed Job manifest
//
// It also resolves which trial a task runs (--index, SLURM_ARRAY_TASK_ID,
// JOB_COMPLETION_INDEX), formats Katib's StdOut metric lines and summarises
// a sweep's progress from its session folders and squeue. The `ccface
// sweep` subcommands are its functions (PlanFile, WriteSlurmScripts and
// SubmitSlurm, WriteK8s, PrintStatus): it asks Slurm's own clients (sbatch,
// scontrol, squeue) but is no scheduler itself. It takes plain data and
// imports only the engine contract and sessions; it never runs a model
// (running a trial is sessions/live's RunTrial).
package sweep
