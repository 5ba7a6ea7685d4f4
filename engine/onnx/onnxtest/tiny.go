// Package onnxtest writes small ONNX recognisers for tests of the code
// that imports, trains and exports them: a real file through the real
// reader, without the shared pretrained models.
package onnxtest

import (
	"math/rand"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// WriteRecogniser writes a MobileFaceNet-shaped recogniser to path: a
// strided 3×3 stem, a depthwise 3×3 block with a residual Add, a pointwise
// expansion with ReLU6 (Clip with constant bounds, opset 11), a depthwise
// "GDC" layer over the whole map and a Reshape [1,-1] as exported with a
// batch of 1, then a Gemm to dim. Input "input" 1×3×side×side (side a
// multiple of 4), output "output" 1×dim; weights drawn from seed.
func WriteRecogniser(path string, side, dim int, seed int64) error {
	rng := rand.New(rand.NewSource(seed))
	const c1, c2 = 8, 16
	m := side / 2
	var inits []*onnxpb.TensorProto
	w := func(name string, fanIn int, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		std := 1 / float32(fanIn)
		for i := range data {
			data[i] = float32(rng.NormFloat64()) * std * 2
		}
		inits = append(inits, floats(name, shape, data))
	}
	w("stem.w", 27, c1, 3, 3, 3)
	w("stem.b", 27, c1)
	w("dw.w", 9, c1, 1, 3, 3)
	w("dw.b", 9, c1)
	w("pw.w", c1, c2, c1, 1, 1)
	w("pw.b", c1, c2)
	w("gdc.w", m*m, c2, 1, m, m)
	w("gdc.b", m*m, c2)
	w("fc.w", c2, dim, c2)
	w("fc.b", c2, dim)
	inits = append(inits, &onnxpb.TensorProto{Name: proto.String("shape"), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)),
		Dims: []int64{2}, Int64Data: []int64{1, -1}})
	nodes := []*onnxpb.NodeProto{
		node("Conv", []string{"input", "stem.w", "stem.b"}, "stem", ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1)),
		node("Relu", []string{"stem"}, "stem.r"),
		node("Conv", []string{"stem.r", "dw.w", "dw.b"}, "dw", ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1), intAttr("group", c1)),
		node("Add", []string{"dw", "stem.r"}, "res"),
		node("Conv", []string{"res", "pw.w", "pw.b"}, "pw", ints("kernel_shape", 1, 1)),
		constant("lo", 0), constant("hi", 6),
		node("Clip", []string{"pw", "lo", "hi"}, "pw.r"),
		node("Conv", []string{"pw.r", "gdc.w", "gdc.b"}, "gdc", ints("kernel_shape", int64(m), int64(m)), intAttr("group", c2)),
		node("Reshape", []string{"gdc", "shape"}, "flat"),
		node("Gemm", []string{"flat", "fc.w", "fc.b"}, "output", intAttr("transB", 1)),
	}
	mp := &onnxpb.ModelProto{IrVersion: proto.Int64(6), ProducerName: proto.String("ccface onnxtest"),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(11)}},
		Graph: &onnxpb.GraphProto{Name: proto.String("tiny-recogniser"), Node: nodes, Initializer: inits,
			Input:  []*onnxpb.ValueInfoProto{valueInfo("input", 1, 3, side, side)},
			Output: []*onnxpb.ValueInfoProto{valueInfo("output", 1, dim)}}}
	raw, err := proto.Marshal(mp)
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o644)
}

func floats(name string, shape []int, data []float32) *onnxpb.TensorProto {
	t := &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: data}
	for _, d := range shape {
		t.Dims = append(t.Dims, int64(d))
	}
	return t
}

func node(op string, ins []string, out string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Input: ins, Output: []string{out}, Attribute: attrs, Name: proto.String(op + "_" + out)}
}

func constant(out string, v float32) *onnxpb.NodeProto {
	t := &onnxpb.TensorProto{DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: []float32{v}}
	return &onnxpb.NodeProto{OpType: proto.String("Constant"), Output: []string{out}, Name: proto.String("Constant_" + out),
		Attribute: []*onnxpb.AttributeProto{{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: t}}}
}

func ints(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func valueInfo(name string, shape ...int) *onnxpb.ValueInfoProto {
	var dims []*onnxpb.TensorShapeProto_Dimension
	for _, d := range shape {
		dims = append(dims, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: &onnxpb.TensorShapeProto{Dim: dims}}}}}
}
