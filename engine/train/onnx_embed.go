package train

import (
	"fmt"

	"github.com/ccface/ccface/engine/onnx"
)

// onnxEmbedder embeds with an imported recogniser, as the file computes it.
type onnxEmbedder struct {
	m    *onnx.Model
	side int
}

// ONNXEmbedder checks that m is a recogniser ccface can evaluate (one
// square image input, one output holding one vector per image) and
// returns it as an Embedder.
func ONNXEmbedder(m *onnx.Model) (Embedder, error) {
	side, err := m.FaceSize()
	if err != nil {
		return nil, err
	}
	if len(m.Outputs) != 1 {
		return nil, fmt.Errorf("%s has %d outputs; a recogniser has one embedding output: export only the embedding", m.Path, len(m.Outputs))
	}
	r, err := m.NewRunner(2, side, side) // a batch of 2 shows which axis is the batch
	if err != nil {
		return nil, err
	}
	s := r.OutputShape(0)
	vector := len(s) >= 2 && s[0] == 2 && s[1] > 1
	for _, d := range s[min(2, len(s)):] {
		vector = vector && d == 1
	}
	if !vector {
		return nil, fmt.Errorf("%s: output %s has shape %v for 2 images; ccface wants one embedding vector per image ([N, D])", m.Path, m.Outputs[0].Name, s)
	}
	return onnxEmbedder{m: m, side: side}, nil
}

func (e onnxEmbedder) Side() int                  { return e.side }
func (e onnxEmbedder) Prepare(x []float32, n int) { e.m.Pre.FromUnit(x, n, e.side) }
func (e onnxEmbedder) NewGraph(n int) (EmbedGraph, error) {
	r, err := e.m.NewRunner(n, e.side, e.side)
	if err != nil {
		return nil, err
	}
	return onnxGraph{r}, nil
}

type onnxGraph struct{ *onnx.Runner }

func (g onnxGraph) Embeddings() []float32 { return g.Output(0) }
