package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// writeTinyONNX saves a model whose input x has the given shape and whose
// nodes are one op per entry of ops, chained from x to y.
func writeTinyONNX(t *testing.T, dir, name string, shape []int64, ops ...string) string {
	t.Helper()
	dim := func(d int64) *onnxpb.TensorShapeProto_Dimension {
		return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}}
	}
	var dims []*onnxpb.TensorShapeProto_Dimension
	for _, d := range shape {
		dims = append(dims, dim(d))
	}
	g := &onnxpb.GraphProto{Name: proto.String("tiny"),
		Input: []*onnxpb.ValueInfoProto{{Name: proto.String("x"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(1), Shape: &onnxpb.TensorShapeProto{Dim: dims}}}}}},
		Output: []*onnxpb.ValueInfoProto{{Name: proto.String("y")}},
		// A weight, so that a cut file loses part of it.
		Initializer: []*onnxpb.TensorProto{{Name: proto.String("unused"), DataType: proto.Int32(1), Dims: []int64{64}, RawData: make([]byte, 256)}}}
	prev := "x"
	for i, op := range ops {
		out := "y"
		if i < len(ops)-1 {
			out = "h" + string(rune('0'+i))
		}
		g.Node = append(g.Node, &onnxpb.NodeProto{Name: proto.String(strings.ToLower(op) + "_1"), OpType: proto.String(op), Input: []string{prev}, Output: []string{out}})
		prev = out
	}
	raw, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(6), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(11)}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestONNXBadInput: each bad model is refused with one line that names the
// file and says what is wrong, by both model inspect and eval.
func TestONNXBadInput(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.onnx")
	os.WriteFile(text, []byte("hello, this is not a model\n"), 0o644)
	png := filepath.Join(dir, "face.onnx")
	os.WriteFile(png, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"), 0o644)
	good := writeTinyONNX(t, dir, "good.onnx", []int64{1, 3, 8, 8}, "GlobalAveragePool", "Flatten")
	raw, _ := os.ReadFile(good)
	cut := filepath.Join(dir, "cut.onnx")
	os.WriteFile(cut, raw[:len(raw)*2/3], 0o644)
	cases := []struct {
		path, want string
		evalOnly   bool
	}{
		{text, "not an ONNX model", false},
		{png, "not an ONNX model", false},
		{cut, "truncated", false},
		{filepath.Join(dir, "missing.onnx"), "no such file", false},
		{writeTinyONNX(t, dir, "erf.onnx", []int64{1, 3, 8, 8}, "Relu", "Erf"), "node erf_1 (Erf): operator Erf is not supported; ccface runs: Add, AveragePool", false},
		{writeTinyONNX(t, dir, "map.onnx", []int64{1, 3, 8, 8}, "Relu"), "one embedding vector per image", true},
		{writeTinyONNX(t, dir, "wide.onnx", []int64{1, 3, 8, 6}, "GlobalAveragePool", "Flatten"), "is 8×6; ccface takes square face crops", true},
	}
	for _, c := range cases {
		cmds := [][]string{{"eval", c.path, "--data", dir}}
		if !c.evalOnly {
			cmds = append(cmds, []string{"model", "inspect", c.path})
		}
		for _, args := range cmds {
			code, _, errs := runCLI(t, args...)
			if code != 1 {
				t.Errorf("%v: exit %d, want 1", args, code)
			}
			if lines := strings.Count(strings.TrimSpace(errs), "\n") + 1; lines != 1 || !strings.Contains(errs, c.want) || !strings.Contains(errs, c.path) {
				t.Errorf("%v: stderr %q, want one line naming the file and saying %q", args, errs, c.want)
			}
		}
	}
	// The good tiny model inspects fine.
	code, out, errs := runCLI(t, "model", "inspect", good)
	if code != 0 || !strings.Contains(out, "GlobalAveragePool ×1") || !strings.Contains(out, "RGB, (pixel − 127.5) / 128") {
		t.Errorf("model inspect %s: exit %d, stdout %q, stderr %q", good, code, out, errs)
	}
}
