package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/ccface/ccface/engine/nn"
	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// Export writes the model to path with weights in place of the
// initialisers of the same names (any subset, for example a fine-tuned
// copy of TrainableWeights); everything else (graph, input and output
// names, opset, the other initialisers) is the loaded file's. The file is
// written next to path and renamed over it, so an existing file is never
// left half-written.
func (m *Model) Export(path string, weights nn.Params) error {
	mp := proto.Clone(m.Proto).(*onnxpb.ModelProto)
	inits := map[string]*onnxpb.TensorProto{}
	for _, t := range mp.GetGraph().GetInitializer() {
		inits[t.GetName()] = t
	}
	for _, p := range weights {
		t, ok := inits[p.Name]
		if !ok {
			return fmt.Errorf("onnx: export %s: %s has no initialiser %q: export weights of this model (TrainableWeights)", path, m.Path, p.Name)
		}
		if err := setTensor(t, p); err != nil {
			return fmt.Errorf("onnx: export %s: %w", path, err)
		}
	}
	raw, err := proto.Marshal(mp)
	if err != nil {
		return fmt.Errorf("onnx: export %s: %w", path, err)
	}
	return writeAtomic(path, raw)
}

// setTensor replaces a float initialiser's values by p's, as raw_data in
// the tensor's own element type.
func setTensor(t *onnxpb.TensorProto, p *nn.Param) error {
	n := 1
	for _, d := range t.GetDims() {
		n *= int(d)
	}
	if n != len(p.Data) {
		return fmt.Errorf("weight %s has %d values, the model's initialiser has shape %v", p.Name, len(p.Data), t.GetDims())
	}
	var raw []byte
	switch dt := onnxpb.TensorProto_DataType(t.GetDataType()); dt {
	case onnxpb.TensorProto_FLOAT:
		raw = make([]byte, 4*n)
		for i, v := range p.Data {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	case onnxpb.TensorProto_DOUBLE:
		raw = make([]byte, 8*n)
		for i, v := range p.Data {
			binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(float64(v)))
		}
	default:
		return fmt.Errorf("initialiser %s holds %v, not floats", p.Name, dt)
	}
	t.RawData, t.FloatData, t.DoubleData = raw, nil, nil
	return nil
}

// writeAtomic writes raw to a temporary file in path's folder, syncs it
// and renames it to path.
func writeAtomic(path string, raw []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("onnx: export: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(raw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("onnx: export %s: %w", path, err)
	}
	return nil
}
