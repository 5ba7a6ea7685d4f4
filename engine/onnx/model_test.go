package onnx

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// TestTensorEncodings: raw_data and the typed fields decode alike; a weight
// kept in an external file is refused with what to do.
func TestTensorEncodings(t *testing.T) {
	raw := floatInit("w", []int{2}, nil)
	raw.RawData = []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0} // 1, −2 little-endian
	v, err := decodeTensor(raw)
	if err != nil || len(v.f) != 2 || v.f[0] != 1 || v.f[1] != -2 {
		t.Fatalf("raw_data: %v, %v", v, err)
	}
	typed, err := decodeTensor(floatInit("w", []int{2}, []float32{1, -2}))
	if err != nil || typed.f[0] != 1 || typed.f[1] != -2 {
		t.Fatalf("float_data: %v, %v", typed, err)
	}
	short := floatInit("w", []int{3}, nil)
	short.RawData = raw.RawData
	if _, err := decodeTensor(short); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("a short raw_data: %v, want a truncation error", err)
	}
	ext := floatInit("w", []int{2}, nil)
	ext.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
	ext.ExternalData = []*onnxpb.StringStringEntryProto{{Key: proto.String("location"), Value: proto.String("w.bin")}}
	tm := tinyModel{x: []int{1, 3, 4, 4}, inits: []*onnxpb.TensorProto{ext},
		nodes: []*onnxpb.NodeProto{node("Relu", []string{"x"}, []string{"y"})}}
	path := tm.write(t)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "external file") || !strings.Contains(err.Error(), path) {
		t.Errorf("external data: %v, want an error naming %s and the external file", err, path)
	}
}
