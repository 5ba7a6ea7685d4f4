package sweep

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ccface/ccface/sessions"

	"go.yaml.in/yaml/v3"
)

// K8sOptions shape the Indexed Job of a sweep.
type K8sOptions struct {
	Image           string // has ccface on its PATH and /bin/sh
	Parallelism     int    // pods running at once
	BackoffLimit    int    // retries of one index before it counts as failed
	PVC             string // claim holding the sweep folder
	StorageSize     string // size requested when the claim is created, "" to use an existing claim
	StorageClass    string // "" for the cluster's default
	MountPath       string // where the sweep folder is mounted in the pod
	CPUs            string // CPU request and limit of a pod
	Memory          string // memory request and limit of a pod
	GracePeriod     int    // seconds between SIGTERM and SIGKILL: time for the final checkpoint
	Namespace       string // "" for the current one
	ImagePullPolicy string // imagePullPolicy, "" for the cluster's default
}

// Kubernetes objects, as far as a sweep needs them; field order is the
// order they are written in.
type (
	k8sMeta struct {
		Name      string            `yaml:"name,omitempty"`
		Namespace string            `yaml:"namespace,omitempty"`
		Labels    map[string]string `yaml:"labels,omitempty"`
	}
	k8sPVC struct {
		APIVersion string  `yaml:"apiVersion"`
		Kind       string  `yaml:"kind"`
		Metadata   k8sMeta `yaml:"metadata"`
		Spec       struct {
			AccessModes      []string `yaml:"accessModes"`
			StorageClassName string   `yaml:"storageClassName,omitempty"`
			Resources        struct {
				Requests map[string]string `yaml:"requests"`
			} `yaml:"resources"`
		} `yaml:"spec"`
	}
	k8sJob struct {
		APIVersion string     `yaml:"apiVersion"`
		Kind       string     `yaml:"kind"`
		Metadata   k8sMeta    `yaml:"metadata"`
		Spec       k8sJobSpec `yaml:"spec"`
	}
	k8sJobSpec struct {
		CompletionMode       string `yaml:"completionMode"`
		Completions          int    `yaml:"completions"`
		Parallelism          int    `yaml:"parallelism"`
		BackoffLimitPerIndex int    `yaml:"backoffLimitPerIndex"`
		Template             struct {
			Metadata k8sMeta    `yaml:"metadata"`
			Spec     k8sPodSpec `yaml:"spec"`
		} `yaml:"template"`
	}
	k8sPodSpec struct {
		RestartPolicy                 string         `yaml:"restartPolicy"`
		TerminationGracePeriodSeconds int            `yaml:"terminationGracePeriodSeconds"`
		Containers                    []k8sContainer `yaml:"containers"`
		Volumes                       []k8sVolume    `yaml:"volumes"`
	}
	k8sContainer struct {
		Name            string   `yaml:"name"`
		Image           string   `yaml:"image"`
		ImagePullPolicy string   `yaml:"imagePullPolicy,omitempty"`
		Command         []string `yaml:"command"`
		Resources       struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		VolumeMounts []k8sMount `yaml:"volumeMounts"`
	}
	k8sMount struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	}
	k8sVolume struct {
		Name                  string `yaml:"name"`
		PersistentVolumeClaim struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	}
)

// K8sManifest renders the sweep as a Kubernetes Indexed Job (and, when
// StorageSize is set, the claim for its folder). Pod i runs trial i: the
// Job controller sets JOB_COMPLETION_INDEX. The sweep folder must be on the
// claim at MountPath (copy it there, e.g. with kubectl cp).
func (sw *Sweep) K8sManifest(o K8sOptions) (claim, job string, err error) {
	switch {
	case o.Image == "":
		return "", "", fmt.Errorf("--image: name an image that has ccface on its PATH and /bin/sh")
	case o.Parallelism < 1:
		return "", "", fmt.Errorf("--parallelism %d: want at least 1", o.Parallelism)
	case o.BackoffLimit < 0:
		return "", "", fmt.Errorf("--backoff-limit %d: want 0 or more", o.BackoffLimit)
	case o.PVC == "":
		return "", "", fmt.Errorf("--pvc: name the PersistentVolumeClaim that holds the sweep folder")
	case !strings.HasPrefix(o.MountPath, "/"):
		return "", "", fmt.Errorf("--mount %q: want an absolute path", o.MountPath)
	}
	name := "ccface-" + strings.ToLower(strings.ReplaceAll(sw.Name, "_", "-"))
	labels := map[string]string{"app.kubernetes.io/name": "ccface", "ccface/sweep": sw.Name}
	if o.StorageSize != "" {
		var pvc k8sPVC
		pvc.APIVersion, pvc.Kind = "v1", "PersistentVolumeClaim"
		pvc.Metadata = k8sMeta{Name: o.PVC, Namespace: o.Namespace, Labels: labels}
		// Many pods on many nodes write the one folder.
		pvc.Spec.AccessModes = []string{"ReadWriteMany"}
		pvc.Spec.StorageClassName = o.StorageClass
		pvc.Spec.Resources.Requests = map[string]string{"storage": o.StorageSize}
		// Its own file: the claim must exist, and hold the sweep folder,
		// before the Job's pods start.
		header := fmt.Sprintf("# ccface sweep %s: the claim the sweep folder goes on (apply it, copy the folder at %s, then apply job.yaml).\n", sw.Name, o.MountPath)
		if claim, err = renderYAML(header, pvc); err != nil {
			return "", "", err
		}
	}
	j := k8sJob{APIVersion: "batch/v1", Kind: "Job", Metadata: k8sMeta{Name: name, Namespace: o.Namespace, Labels: labels}}
	js := &j.Spec
	js.CompletionMode = "Indexed"
	js.Completions = len(sw.Trials)
	js.Parallelism = o.Parallelism
	js.BackoffLimitPerIndex = o.BackoffLimit
	js.Template.Metadata = k8sMeta{Labels: labels}
	ps := &js.Template.Spec
	ps.RestartPolicy = "Never" // backoffLimitPerIndex requires it; a retry is a new pod that resumes the trial
	ps.TerminationGracePeriodSeconds = o.GracePeriod
	c := k8sContainer{Name: "trial", Image: o.Image, ImagePullPolicy: o.ImagePullPolicy,
		// exec: ccface is the container's main process and gets SIGTERM.
		Command:      []string{"/bin/sh", "-c", "exec ccface train --headless --sweep " + shellQuote(o.MountPath)},
		VolumeMounts: []k8sMount{{Name: "sweep", MountPath: o.MountPath}}}
	c.Resources.Requests = map[string]string{"cpu": o.CPUs, "memory": o.Memory}
	c.Resources.Limits = map[string]string{"cpu": o.CPUs, "memory": o.Memory}
	ps.Containers = []k8sContainer{c}
	v := k8sVolume{Name: "sweep"}
	v.PersistentVolumeClaim.ClaimName = o.PVC
	ps.Volumes = []k8sVolume{v}
	header := fmt.Sprintf("# ccface sweep %s: %d trials as a Kubernetes Indexed Job (pod i runs trial i).\n", sw.Name, len(sw.Trials)) +
		fmt.Sprintf("# Written by `ccface sweep k8s`; the sweep folder must be on claim %s at %s.\n", o.PVC, o.MountPath)
	job, err = renderYAML(header, j)
	return claim, job, err
}

// renderYAML writes a commented Kubernetes object.
func renderYAML(header string, doc any) (string, error) {
	var b bytes.Buffer
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return "", fmt.Errorf("render manifest: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("render manifest: %w", err)
	}
	return b.String(), nil
}

// WriteK8s writes the sweep's claim and Indexed Job (K8sManifest) into its
// k8s folder and says on w how to start them.
func (sw *Sweep) WriteK8s(o K8sOptions, w io.Writer) error {
	claim, job, err := sw.K8sManifest(o)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(sw.Dir, K8sDir), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", K8sDir, err)
	}
	claimPath, jobPath := filepath.Join(sw.Dir, K8sDir, "pvc.yaml"), filepath.Join(sw.Dir, K8sDir, "job.yaml")
	for path, text := range map[string]string{claimPath: claim, jobPath: job} {
		if text == "" {
			continue
		}
		if err := sessions.WriteFileAtomic(path, []byte(text), 0o644); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
	}
	fmt.Fprintf(w, "wrote %s: an Indexed Job of %d trials, %d at once\n", jobPath, len(sw.Trials), o.Parallelism)
	if claim != "" {
		fmt.Fprintf(w, "1. `kubectl apply -f %s` (the claim %s)\n2. copy %s onto it (mounted at %s in the pods)\n3. `kubectl apply -f %s`\n",
			claimPath, o.PVC, sw.Dir, o.MountPath, jobPath)
	} else {
		fmt.Fprintf(w, "copy %s onto claim %s (mounted at %s in the pods), then `kubectl apply -f %s`\n", sw.Dir, o.PVC, o.MountPath, jobPath)
	}
	return nil
}
