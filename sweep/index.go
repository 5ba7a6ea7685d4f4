package sweep

import (
	"fmt"
	"strconv"
)

// Environment variables a scheduler sets to tell an array task its index.
const (
	EnvSlurmTask = "SLURM_ARRAY_TASK_ID"  // Slurm job arrays
	EnvK8sIndex  = "JOB_COMPLETION_INDEX" // Kubernetes Indexed Jobs
)

// ResolveIndex says which trial this task runs: the --index flag when given
// (flag non-empty), else SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX.
// source names where the index came from, for the log.
func ResolveIndex(flag string, getenv func(string) string) (index int, source string, err error) {
	for _, c := range []struct{ value, source string }{
		{flag, "--index"},
		{getenv(EnvSlurmTask), EnvSlurmTask},
		{getenv(EnvK8sIndex), EnvK8sIndex},
	} {
		if c.value == "" {
			continue
		}
		n, err := strconv.Atoi(c.value)
		if err != nil || n < 0 {
			return 0, c.source, fmt.Errorf("trial index %s=%q: want a whole number ≥ 0", c.source, c.value)
		}
		return n, c.source, nil
	}
	return 0, "", fmt.Errorf("no trial index: pass --index N, or run as a Slurm array task (%s) or a Kubernetes Indexed Job pod (%s)", EnvSlurmTask, EnvK8sIndex)
}
