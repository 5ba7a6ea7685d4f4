package engine

import (
	"strconv"
	"time"
)

// Kind says what an Event reports.
type Kind string

// Event kinds. Point events are coalesced and flushed in batches; every other
// kind is a lifecycle event and is delivered without loss.
const (
	KindStart      Kind = "start"      // run started or resumed; Values: total_steps
	KindPoint      Kind = "point"      // per-step metrics in Values
	KindPhase      Kind = "phase"      // a phase began; Phase names it
	KindHyper      Kind = "hyper"      // a knob change was applied at Step: Knob, Old, New, By
	KindEval       Kind = "eval"       // evaluation finished: Values and Curves
	KindCheckpoint Kind = "checkpoint" // a checkpoint was written to Path
	KindState      Kind = "state"      // paused or resumed: Message is "paused" or "running"
	KindLog        Kind = "log"        // an informational message
	KindFailed     Kind = "failed"     // the run failed: Message says why
	KindDone       Kind = "done"       // the run finished or stopped: Message says which
)

// Event is one record of what happened in a run. It is plain data: it is
// written as one line of a session's events.jsonl and read back by plots.
type Event struct {
	Kind  Kind      `json:"kind"`
	Step  int64     `json:"step"`
	Epoch float64   `json:"epoch"`
	Phase string    `json:"phase,omitempty"`
	Time  time.Time `json:"time"`

	Values map[string]float64 `json:"values,omitempty"`
	Curves map[string]Curve   `json:"curves,omitempty"`

	Knob    string `json:"knob,omitempty"`
	Old     string `json:"old,omitempty"`
	New     string `json:"new,omitempty"`
	By      string `json:"by,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message,omitempty"`
}

// Curve is an x-y series attached to an eval event (ROC, CMC).
type Curve struct {
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
}

// Metric names carried by point events. Loss terms start with "loss".
const (
	MLoss       = "loss"        // total loss
	MLossCCLR   = "loss_cc_lr"  // classification consistency on LR views (student)
	MLossCCHR   = "loss_cc_hr"  // classification consistency on HR views, before α (student); the margin CE for the teacher
	MLossACR    = "loss_acr"    // asymmetric cross-resolution term, before λ (feature distance for feature-kd)
	MAccLR      = "acc_lr"      // batch accuracy against the classifier, LR views
	MAccHR      = "acc_hr"      // batch accuracy, HR views
	MMargin     = "margin"      // mean per-sample margin in effect
	MMarginStd  = "margin_std"  // spread of the per-sample margins
	MThetaLR    = "theta_lr"    // mean target angle θ_y of LR views, degrees
	MThetaHR    = "theta_hr"    // mean target angle θ_y of HR views, degrees
	MLR         = "lr"          // learning rate in effect
	MImgPerSec  = "img_per_s"   // training throughput
	MTotalSteps = "total_steps" // steps of the whole run (start events)
)

// Metric names of per-step points added by the method issue's policies.
const (
	MTeacherStudentCos = "ts_cos"     // mean cosine between z_S(x_LR) and z_T(x_HR)
	MClusterLR         = "cluster_lr" // mean cosine of LR embeddings of different identities in the batch
	MClusterHR         = "cluster_hr" // the same for HR embeddings
)

// CurveMarginHist is the histogram of the LR views' per-sample margins that
// rides along with some point events (X: bin centres, Y: counts).
const CurveMarginHist = "margin_hist"

// Eval event keys are "<view>.<metric>". Views: "hr" (HR gallery, HR probes,
// HR-HR pairs), "lr<N>" (HR gallery with N-px probes; LR-LR pairs) and
// "hrlr<N>" (HR-LR pairs). Metrics below. Curves are "roc.<view>" (X: FAR,
// Y: TAR) and "cmc.<view>" (X: rank, Y: identification rate).
const (
	EVerifAcc = "verif_acc" // mean 10-fold verification accuracy
	EVerifStd = "verif_std" // its standard deviation over folds
	EAUC      = "auc"
	ETAR1e2   = "tar_far1e-2"
	ETAR1e3   = "tar_far1e-3"
	ERank1    = "rank1"
	ERank5    = "rank5"
	ERank20   = "rank20"
	EMAP      = "map"
	ECluster  = "cluster" // mean cosine between embeddings of different identities
)

// EvalKey joins a view and a metric into an eval Values key.
func EvalKey(view, metric string) string { return view + "." + metric }

// LRView names the view of N-px probes ("lr8"); HRLRView its cross-resolution pairs.
func LRView(px int) string   { return "lr" + strconv.Itoa(px) }
func HRLRView(px int) string { return "hrlr" + strconv.Itoa(px) }
