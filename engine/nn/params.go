package nn

import (
	"fmt"
	G "gorgonia.org/gorgonia"
	"math"
	"math/rand"
)

// Param is one named parameter tensor. Every graph bound to it reads Data
// through its own tensor header (gorgonia transposes and reshapes operands by
// editing the header in place, so replicas must not share one), and an
// optimizer that edits Data in place changes what they all read.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
}

// NewParam allocates a zero parameter of the given shape.
func NewParam(name string, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Param{Name: name, Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// Params is an ordered set of parameters.
type Params []*Param

// Clone deep-copies the parameters (new backing arrays).
func (ps Params) Clone() Params {
	out := make(Params, len(ps))
	for i, p := range ps {
		c := NewParam(p.Name, p.Shape...)
		copy(c.Data, p.Data)
		out[i] = c
	}
	return out
}

// CopyFrom overwrites the values of ps with those of src (same layout).
func (ps Params) CopyFrom(src Params) error {
	if len(ps) != len(src) {
		return fmt.Errorf("nn: copy %d params into %d", len(src), len(ps))
	}
	for i := range ps {
		if ps[i].Name != src[i].Name || len(ps[i].Data) != len(src[i].Data) {
			return fmt.Errorf("nn: param %d is %s%v, source has %s%v", i, ps[i].Name, ps[i].Shape, src[i].Name, src[i].Shape)
		}
		copy(ps[i].Data, src[i].Data)
	}
	return nil
}

// Count returns the number of scalar parameters.
func (ps Params) Count() int {
	n := 0
	for _, p := range ps {
		n += len(p.Data)
	}
	return n
}

// Arch shapes the backbone. Three stages at HR, HR/2 and HR/4 with Width,
// 2·Width and 4·Width channels; each stage after the stem opens with a 3×3
// convolution that widens it, then Depth residual blocks; a last 2×2 pool and
// a fully connected layer give the embedding. Spatial layout is kept up to
// the embedding (flatten, not global pooling): face identity lives in where
// things are.
type Arch struct {
	HR, Width, Depth, Embed int
	// Imported, when set, is a pretrained network (an ONNX model) used as
	// the backbone instead of the residual CNN; HR and Embed are its own.
	Imported Imported
}

// Imported is a backbone brought from elsewhere (engine/onnx implements it;
// nn does not import it, as onnx builds on nn's kernels).
type Imported interface {
	// Build wires the network into g on x, [N,3,Side,Side] images in
	// [-1,1] as the datasets pipeline makes them, reading each weight
	// through param, and returns the [N, EmbedDim] output. With train the
	// ops get their backward passes.
	Build(g *G.ExprGraph, x *G.Node, param func(name string) (*G.Node, error), train bool) (*G.Node, error)
	// TrainableWeights returns a fresh copy of the weights Build reads.
	TrainableWeights() Params
	EmbedDim() int
	Side() int
}

// ImportedArch is the architecture of an imported backbone.
func ImportedArch(m Imported) Arch {
	return Arch{HR: m.Side(), Embed: m.EmbedDim(), Imported: m}
}

// Validate rejects shapes the backbone cannot be built with.
func (a Arch) Validate() error {
	if a.Imported != nil { // ImportedArch took HR and Embed from the model
		if a.HR < 1 || a.Embed < 1 {
			return fmt.Errorf("nn: an imported backbone of %d px and %d-d embeddings", a.HR, a.Embed)
		}
		return nil
	}
	if a.HR < 8 || a.HR%8 != 0 {
		return fmt.Errorf("nn: HR side %d must be a multiple of 8 and at least 8", a.HR)
	}
	if a.Width < 1 || a.Depth < 0 || a.Embed < 1 {
		return fmt.Errorf("nn: bad architecture %+v", a)
	}
	return nil
}

// stageChannels returns the channel count of each stage.
func (a Arch) stageChannels() [3]int { return [3]int{a.Width, 2 * a.Width, 4 * a.Width} }

// flatDim is the size of the flattened feature map entering the FC layer.
func (a Arch) flatDim() int { s := a.HR / 8; return 4 * a.Width * s * s }

// NewBackbone initialises backbone parameters. Convolutions use He-normal
// initialisation; the second convolution of each residual block starts 10×
// smaller so each block starts near the identity: the net has no batch
// normalisation (its running statistics would complicate replicas, exact
// resume and evaluation), and this keeps early training stable without it.
func NewBackbone(a Arch, rng *rand.Rand) (Params, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if a.Imported != nil {
		return a.Imported.TrainableWeights(), nil
	}
	var ps Params
	conv := func(name string, in, out int, gain float64) {
		w := NewParam(name+".w", out, in, 3, 3)
		he(w.Data, 9*in, gain, rng)
		ps = append(ps, w, NewParam(name+".b", 1, out, 1, 1))
	}
	ch := a.stageChannels()
	conv("stem", 3, ch[0], 1)
	for s := 1; s < 3; s++ {
		conv(fmt.Sprintf("s%d.open", s), ch[s-1], ch[s], 1)
		for d := 0; d < a.Depth; d++ {
			conv(fmt.Sprintf("s%d.b%d.c1", s, d), ch[s], ch[s], 1)
			conv(fmt.Sprintf("s%d.b%d.c2", s, d), ch[s], ch[s], 0.1)
		}
	}
	fc := NewParam("fc.w", a.flatDim(), a.Embed)
	he(fc.Data, a.flatDim(), 0.5, rng)
	ps = append(ps, fc, NewParam("fc.b", 1, a.Embed))
	return ps, nil
}

// NewClassifier initialises a cosine classifier: one row per class, of about
// unit length. Rows are normalised inside the graph, so the length does not
// change the logits, but it sets the learning speed: the gradient reaching a
// row is scaled by 1/|w|, and the change of its direction by 1/|w|².
func NewClassifier(classes, embed int, rng *rand.Rand) *Param {
	w := NewParam("classifier", classes, embed)
	std := 1 / math.Sqrt(float64(embed))
	for i := range w.Data {
		w.Data[i] = float32(rng.NormFloat64() * std)
	}
	return w
}

func he(dst []float32, fanIn int, gain float64, rng *rand.Rand) {
	std := gain * math.Sqrt(2/float64(fanIn))
	for i := range dst {
		dst[i] = float32(rng.NormFloat64() * std)
	}
}
