package onnx

import (
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ccface/ccface/engine/nn"
	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// fineTune trains a copy of m's weights for a few plain SGD steps (rate
// lr) on
// loss = Σ y⊙R (R fixed, random) over the images x, through the graph
// Build makes for training, and returns the weights and the embeddings
// that graph gives with them.
func fineTune(t *testing.T, m *Model, x []float32, n, steps int, lr float32) (nn.Params, []float32) {
	t.Helper()
	params := m.TrainableWeights()
	bt := buildGraph(t, m, n, params, true)
	copy(bt.x, x)
	rng := rand.New(rand.NewSource(11))
	r := randn(rng, prod(bt.out.Shape()))
	rn := G.NewTensor(bt.g, tensor.Float32, 2, G.WithShape(bt.out.Shape()...), G.WithName("R"),
		G.WithValue(tensor.New(tensor.WithShape(bt.out.Shape()...), tensor.WithBacking(r))))
	yr, err := G.HadamardProd(bt.out, rn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(yr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, bt.nodes...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(bt.g, G.BindDualValues(bt.nodes...))
	defer vm.Close()
	var first, last float32
	for s := 0; s <= steps; s++ {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		l := loss.Value().Data().(float32)
		if s == 0 {
			first = l
		}
		last = l
		if s == steps { // the last run only reads the embeddings
			break
		}
		for i, nd := range bt.nodes {
			gv, err := nd.Grad()
			if err != nil {
				t.Fatal(err)
			}
			gd := gv.Data().([]float32)
			for j, v := range gd {
				params[i].Data[j] -= lr * v
			}
			clear(gd)
		}
		vm.Reset()
	}
	if !(last < first) {
		t.Fatalf("%d SGD steps on the loss went from %g to %g: the gradients do not descend", steps, first, last)
	}
	t.Logf("loss %g → %g in %d steps", first, last, steps)
	return params, append([]float32(nil), bt.out.Value().Data().([]float32)...)
}

// roundTrip fine-tunes, exports, loads the export and checks that it gives
// the fine-tuned graph's embeddings and keeps the file's names and opset.
func roundTrip(t *testing.T, m *Model, x []float32, n, steps int, lr float32, out string) *Model {
	t.Helper()
	params, want := fineTune(t, m, x, n, steps, lr)
	if err := m.Export(out, params); err != nil {
		t.Fatal(err)
	}
	back, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if back.Input.Name != m.Input.Name || back.Outputs[0].Name != m.Outputs[0].Name || back.Opset != m.Opset {
		t.Fatalf("export has input %s output %s opset %d, the original %s %s %d",
			back.Input.Name, back.Outputs[0].Name, back.Opset, m.Input.Name, m.Outputs[0].Name, m.Opset)
	}
	bt := buildGraph(t, back, n, back.TrainableWeights(), false)
	copy(bt.x, x)
	got := bt.forward(t)
	orig := buildGraph(t, m, n, m.TrainableWeights(), false)
	copy(orig.x, x)
	before := orig.forward(t)
	moved, worst := 0.0, 0.0
	for j := range want {
		worst = math.Max(worst, math.Abs(float64(got[j]-want[j])))
		moved = math.Max(moved, math.Abs(float64(before[j]-want[j])))
	}
	t.Logf("fine-tuning moved the embeddings by up to %.3g; the export differs from them by %.2g", moved, worst)
	if worst > 1e-5 {
		t.Errorf("the exported model's embeddings differ from the fine-tuned graph's by up to %g", worst)
	}
	if moved < 1e-4 {
		t.Errorf("fine-tuning moved the embeddings by only %g: the round trip shows nothing", moved)
	}
	return back
}

// TestExportRoundTrip: load → fine-tune a few steps → export → load gives
// the fine-tuned embeddings, on a tiny recogniser built in the test.
func TestExportRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	w := smallW(rng)
	vr := floatInit("var", []int{4}, []float32{0.5, 1, 2, 0.25})
	tm := tinyModel{x: []int{1, 3, 8, 8},
		inits: []*onnxpb.TensorProto{w("stem", 4, 3, 3, 3), w("stem.b", 4), w("scale", 4), w("bias", 4), w("mean", 4), vr,
			w("dw", 4, 1, 3, 3), w("slope", 4), w("fc", 6, 64), w("fc.b", 6), intInit("shape", 1, -1)},
		nodes: []*onnxpb.NodeProto{constF("lo", 0), constF("hi", 6),
			node("Conv", []string{"x", "stem", "stem.b"}, []string{"c"}, ints("pads", 1, 1, 1, 1)),
			node("BatchNormalization", []string{"c", "scale", "bias", "mean", "var"}, []string{"bn"}),
			node("Clip", []string{"bn", "lo", "hi"}, []string{"a"}),
			node("Conv", []string{"a", "dw"}, []string{"d"}, intAttr("group", 4), ints("pads", 1, 1, 1, 1), ints("strides", 2, 2)),
			node("PRelu", []string{"d", "slope"}, []string{"p"}),
			node("Reshape", []string{"p", "shape"}, []string{"f"}),
			node("Gemm", []string{"f", "fc", "fc.b"}, []string{"y"}, intAttr("transB", 1))}}
	m, err := Load(tm.write(t))
	if err != nil {
		t.Fatal(err)
	}
	x := randn(rng, 3*3*8*8)
	out := filepath.Join(t.TempDir(), "tuned.onnx")
	roundTrip(t, m, x, 3, 3, 1e-3, out)

	// Exporting weights the model does not have fails and leaves the
	// earlier export as it was.
	before, _ := os.ReadFile(out)
	err = m.Export(out, nn.Params{nn.NewParam("nope", 2)})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("export of an unknown weight: %v, want an error naming it", err)
	}
	wrong := m.TrainableWeights()
	wrong[0].Data = wrong[0].Data[:3]
	if err := m.Export(out, wrong); err == nil || !strings.Contains(err.Error(), "stem") {
		t.Errorf("export of a weight of the wrong size: %v, want an error naming it", err)
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Errorf("a failed export changed %s", out)
	}
	if err := m.Export(filepath.Join(t.TempDir(), "no", "such", "dir.onnx"), nil); err == nil {
		t.Errorf("export into a missing folder succeeded")
	}
}

// TestExportMobileFaceNet: the round trip on the shared recogniser. With
// CCFACE_ONNX_CROSSCHECK=DIR it leaves DIR/finetuned.onnx and the
// embeddings ccface computes with it on the fixture faces,
// DIR/ccface_embeddings.json, for scripts/onnx_crosscheck.py.
func TestExportMobileFaceNet(t *testing.T) {
	m := loadShared(t, "mobilefacenet.onnx")
	x, ref := fixtureFaces(t)
	dir := os.Getenv("CCFACE_ONNX_CROSSCHECK")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n := 2 // two faces are enough to train on; all eight are embedded below
	back := roundTrip(t, m, x[:n*3*112*112], n, 2, 1e-5, filepath.Join(dir, "finetuned.onnx"))
	bt := buildGraph(t, back, len(ref), back.TrainableWeights(), false)
	copy(bt.x, x)
	emb := bt.forward(t)
	raw, _ := os.ReadFile(filepath.Join(sharedModels, "fixtures", "mobilefacenet_ref.json"))
	var names struct{ Images []string }
	if err := json.Unmarshal(raw, &names); err != nil {
		t.Fatal(err)
	}
	rows := make([][]float32, len(ref))
	for i := range rows {
		rows[i] = emb[i*128 : (i+1)*128]
	}
	js, err := json.Marshal(map[string]any{"model": "finetuned.onnx", "images": names.Images, "embeddings": rows})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ccface_embeddings.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
}
