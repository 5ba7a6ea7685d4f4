package train

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/eval"
	"github.com/ccface/ccface/engine/nn"
)

// evalKernel downsamples evaluation probes: an area (box) filter is what a
// camera sensor does to a small face, unlike the aliasing of plain bicubic.
const evalKernel = "area"

// evalChunk is the number of images one embedding graph takes per run.
const evalChunk = 32

// clusterPairs bounds the pairs sampled for the cluster score.
const clusterPairs = 20000

// evaluate scores the model of a phase on the evaluation identities and
// emits the result. Failures are reported, not fatal: training goes on.
func (e *Engine) evaluate(phase, reason string) {
	model := engine.PhaseTeacher
	bb, a := e.st.Teacher, e.archs.teacher
	if phase == engine.PhaseStudent && e.st.Student != nil {
		model, bb, a = engine.PhaseStudent, e.st.Student, e.archs.student
	}
	t0 := time.Now()
	values, curves, err := Evaluate(Backbone{bb, a}, e.cfg, e.eval, e.protocol)
	if err != nil {
		e.logf("evaluation of the %s failed: %v", model, err)
		return
	}
	e.emit(engine.Event{Kind: engine.KindEval, Values: values, Curves: curves,
		Message: fmt.Sprintf("%s (%s, %.1fs)", model, reason, time.Since(t0).Seconds())})
}

// Protocol fixes what an evaluation set's own files define: verification
// pairs (a .bin, a pairs.txt) and an identification gallery and probes
// (TinyFace). Verify or Identify false skips that protocol; with nil
// fields the protocol is drawn from the labels (METHOD.md).
type Protocol struct {
	Verify, Identify bool
	Pairs            []eval.Pair
	Folds            int
	Gallery, Probes  []int
}

// Embedder maps face images to embeddings: a session's backbone
// (Backbone) or an imported ONNX model (ONNXEmbedder).
type Embedder interface {
	// Side is the square input size, in pixels.
	Side() int
	// Prepare converts n CHW RGB images with values in [0,1] (the datasets
	// pipeline's) to the embedder's input, in place: the one place an
	// embedder's preprocessing lives.
	Prepare(x []float32, n int)
	// NewGraph builds one graph for n images; a graph serves one goroutine.
	NewGraph(n int) (EmbedGraph, error)
}

// EmbedGraph is one compiled embedding graph.
type EmbedGraph interface {
	Input() []float32
	Run() error
	// Embeddings returns the [n, dim] output of the last run, overwritten
	// by the next.
	Embeddings() []float32
}

// Backbone embeds with a trained backbone (a residual CNN, or an imported
// network with trained weights) of architecture Arch.
type Backbone struct {
	Params nn.Params
	Arch   nn.Arch
}

func (b Backbone) Side() int                  { return b.Arch.HR }
func (b Backbone) Prepare(x []float32, _ int) { datasets.Normalise(x) }
func (b Backbone) NewGraph(n int) (EmbedGraph, error) {
	return nn.NewNet(nn.NetSpec{Arch: b.Arch, N: n}, b.Params, nil)
}

// Evaluate runs the verification and identification protocols of METHOD.md
// on set with an embedder, at HR and at every LR size of cfg.Eval, under
// proto. The set's images must be emb.Side() pixels square.
func Evaluate(emb Embedder, cfg engine.Config, set *datasets.Set, proto Protocol) (map[string]float64, map[string]engine.Curve, error) {
	embed := func(x []float32, n int) ([][]float32, error) { return embedAll(emb, cfg, x, n) }
	return evaluateWith(emb.Side(), emb.Prepare, embed, cfg, set, proto)
}

// PairsNote says when the verification pairs drawn from set's labels are
// fewer than eval.pairs asks: MakePairs keeps same and different pairs
// balanced, so a set with few images per identity gives fewer. Empty when
// the set brings its own pairs or all were drawn.
func PairsNote(cfg engine.Config, set *datasets.Set, proto Protocol) string {
	if !proto.Verify || proto.Pairs != nil {
		return ""
	}
	n := len(eval.MakePairs(set.Labels, cfg.Eval.Pairs, cfg.Seed))
	if n >= cfg.Eval.Pairs-1 { // an odd count rounds down to balance
		return ""
	}
	if n == 0 {
		return fmt.Sprintf("verification: no balanced pairs can be drawn from %d images (an identity with two images and two identities are needed); verification is not scored", set.Len())
	}
	return fmt.Sprintf("verification: %d pairs (%d same, %d different), not the %d eval.pairs asks: the set holds no more same-identity pairs, and pairs stay balanced", n, n/2, n/2, cfg.Eval.Pairs)
}

// embedFunc embeds n prepared CHW images.
type embedFunc func(x []float32, n int) ([][]float32, error)

// evaluateWith is Evaluate with the embedder's parts given apart (tests
// pass an embedding of known values to check the protocols' wiring).
func evaluateWith(size int, prepare func(x []float32, n int), embed embedFunc, cfg engine.Config, set *datasets.Set, proto Protocol) (map[string]float64, map[string]engine.Curve, error) {
	img := 3 * size * size
	n := set.Len()
	hr := make([]float32, n*img)
	for i := 0; i < n; i++ {
		datasets.ToCHW(hr[i*img:(i+1)*img], set.Pixels[i], size)
	}
	views := map[string][]float32{"hr": hr}
	for _, side := range cfg.Eval.LRSizes {
		lr := make([]float32, n*img)
		for i := 0; i < n; i++ {
			datasets.DownUp(lr[i*img:(i+1)*img], hr[i*img:(i+1)*img], size, side, evalKernel)
		}
		views[engine.LRView(side)] = lr
	}
	embs := map[string][][]float32{}
	for name, x := range views {
		prepare(x, n)
		v, err := embed(x, n)
		if err == nil && cfg.Eval.FlipTTA {
			err = addFlipped(v, embed, x, n, size)
		}
		if err != nil {
			return nil, nil, err
		}
		embs[name] = v
	}

	values := map[string]float64{}
	curves := map[string]engine.Curve{}
	put := func(view, metric string, v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) { // JSON has no NaN; a missing key says "undefined"
			values[engine.EvalKey(view, metric)] = v
		}
	}
	labels := set.Labels
	pairs, folds := proto.Pairs, proto.Folds
	if pairs == nil {
		pairs, folds = eval.MakePairs(labels, cfg.Eval.Pairs, cfg.Seed), cfg.Eval.Folds
	}
	split := eval.Split{Gallery: proto.Gallery, Probes: proto.Probes}
	if split.Gallery == nil {
		split = eval.MakeSplit(labels, cfg.Eval.GalleryPerID, cfg.Eval.Distractors, cfg.Seed)
	}
	verify := func(view string, a, b [][]float32) {
		if !proto.Verify {
			return
		}
		scores := make([]float64, len(pairs))
		same := make([]bool, len(pairs))
		for i, p := range pairs {
			scores[i], same[i] = eval.Cosine(a[p.A], b[p.B]), p.Same
		}
		r := eval.Verify(scores, same, folds)
		put(view, engine.EVerifAcc, r.Acc)
		put(view, engine.EVerifStd, r.AccStd)
		put(view, engine.EAUC, r.AUC)
		put(view, engine.ETAR1e2, r.TAR1e2)
		put(view, engine.ETAR1e3, r.TAR1e3)
		curves["roc."+view] = engine.Curve{X: r.ROC.X, Y: r.ROC.Y}
	}
	identify := func(view string, probes [][]float32) {
		if !proto.Identify {
			return
		}
		g, gl := pick(embs["hr"], labels, split.Gallery)
		p, pl := pick(probes, labels, split.Probes)
		r := eval.Identify(g, gl, p, pl)
		put(view, engine.ERank1, r.Rank1)
		put(view, engine.ERank5, r.Rank5)
		put(view, engine.ERank20, r.Rank20)
		put(view, engine.EMAP, r.MAP)
		curves["cmc."+view] = engine.Curve{X: r.CMC.X, Y: r.CMC.Y}
		put(view, engine.ECluster, eval.ClusterScore(probes, labels, clusterPairs, cfg.Seed))
	}
	verify("hr", embs["hr"], embs["hr"])
	identify("hr", embs["hr"])
	for _, side := range cfg.Eval.LRSizes {
		lr := embs[engine.LRView(side)]
		verify(engine.LRView(side), lr, lr)
		verify(engine.HRLRView(side), embs["hr"], lr)
		identify(engine.LRView(side), lr)
	}
	return values, curves, nil
}

func pick(emb [][]float32, labels, idx []int) ([][]float32, []int) {
	e := make([][]float32, len(idx))
	l := make([]int, len(idx))
	for i, j := range idx {
		e[i], l[i] = emb[j], labels[j]
	}
	return e, l
}

// embedAll embeds n prepared images with one embedding graph per core.
func embedAll(emb Embedder, cfg engine.Config, x []float32, n int) ([][]float32, error) {
	workers := replicas(cfg.Replicas, 1<<20)
	side := emb.Side()
	img := 3 * side * side
	out := make([][]float32, n)
	chunks := (n + evalChunk - 1) / evalChunk
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			net, err := emb.NewGraph(evalChunk)
			if err != nil {
				errs[w] = err
				return
			}
			for c := w; c < chunks; c += workers {
				lo, hi := c*evalChunk, min((c+1)*evalChunk, n)
				in := net.Input()
				clear(in)
				copy(in, x[lo*img:hi*img]) // a short last chunk runs padded with zeros
				if err := net.Run(); err != nil {
					errs[w] = err
					return
				}
				z := net.Embeddings()
				dim := len(z) / evalChunk
				for i := lo; i < hi; i++ {
					out[i] = append([]float32(nil), z[(i-lo)*dim:(i-lo+1)*dim]...)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// addFlipped adds to each embedding that of its horizontally flipped image.
func addFlipped(out [][]float32, embed embedFunc, x []float32, n, size int) error {
	flipped := make([]float32, len(x))
	flipImages(flipped, x, n, size)
	f, err := embed(flipped, n)
	if err != nil {
		return err
	}
	for i := range out {
		for k := range out[i] {
			out[i][k] += f[i][k]
		}
	}
	return nil
}

// flipImages mirrors n CHW images horizontally.
func flipImages(dst, src []float32, n, size int) {
	for p := 0; p < n*3*size; p++ { // every row of every channel of every image
		row := src[p*size : (p+1)*size]
		out := dst[p*size : (p+1)*size]
		for j, v := range row {
			out[size-1-j] = v
		}
	}
}
