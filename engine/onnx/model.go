package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/ccface/ccface/engine/nn"
	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// Model is a loaded ONNX file.
type Model struct {
	Path  string
	Proto *onnxpb.ModelProto // kept whole, so trained weights can be written back
	Opset int64              // of the default ("" / ai.onnx) domain
	Input ValueInfo          // the image input
	// Outputs are the graph outputs, in file order.
	Outputs []ValueInfo
	// Weights are the float initialisers, in file order. Every runner built
	// from the model reads their Data: change it in place to change them all.
	Weights nn.Params
	// Pre is how ccface turns 8-bit RGB pixels into this model's input.
	Pre Preprocess

	consts map[string]*tval // every initialiser, by name
}

// ValueInfo names a graph input or output; a dimension the file leaves
// open (a symbolic or missing size) is -1.
type ValueInfo struct {
	Name  string
	Shape []int
}

// Preprocess maps a pixel p in [0,255] of channel c to (p − Mean)/Std, with
// the channels in BGR order when BGR is set. Grey images are fed as three
// equal channels.
type Preprocess struct {
	Mean, Std float32
	BGR       bool
}

// DefaultPreprocess is insightface's recogniser convention: RGB,
// (p − 127.5)/128.
func DefaultPreprocess() Preprocess { return Preprocess{Mean: 127.5, Std: 128} }

func (p Preprocess) String() string {
	order := "RGB"
	if p.BGR {
		order = "BGR"
	}
	return fmt.Sprintf("%s, (pixel − %g) / %g", order, p.Mean, p.Std)
}

// FromUnit converts n CHW RGB images with values in [0,1] (what the
// datasets pipeline produces) to this preprocessing, in place.
func (p Preprocess) FromUnit(x []float32, n, side int) {
	plane := side * side
	scale := 255 / p.Std
	shift := -p.Mean / p.Std
	for i := range x {
		x[i] = x[i]*scale + shift
	}
	if p.BGR {
		for k := 0; k < n; k++ {
			r := x[k*3*plane:][:plane]
			b := x[(k*3+2)*plane:][:plane]
			for j := range r {
				r[j], b[j] = b[j], r[j]
			}
		}
	}
}

// tval is a constant tensor: an initialiser, a Constant node's value or a
// shape computation folded at build time. Exactly one of f and i is set.
type tval struct {
	shape []int
	f     []float32
	i     []int64
}

func (t *tval) size() int { return prod(t.shape) }

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Load reads an ONNX model. Its errors name the file and say what to do.
func Load(path string) (*Model, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	mp := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(raw, mp); err != nil {
		if looksLikeModel(raw) {
			return nil, fmt.Errorf("onnx: %s is truncated or corrupt (%v): copy or export it again", path, err)
		}
		return nil, fmt.Errorf("onnx: %s is not an ONNX model (%v): give a .onnx file exported by torch.onnx.export or similar", path, err)
	}
	if mp.GetGraph() == nil || mp.GetIrVersion() == 0 || len(mp.GetGraph().GetNode()) == 0 {
		if len(raw) > 0 && looksLikeModel(raw) {
			return nil, fmt.Errorf("onnx: %s is truncated (no graph found): copy or export it again", path)
		}
		return nil, fmt.Errorf("onnx: %s is not an ONNX model (no graph found): give a .onnx file exported by torch.onnx.export or similar", path)
	}
	m := &Model{Path: path, Proto: mp, Pre: DefaultPreprocess(), consts: map[string]*tval{}}
	for _, o := range mp.GetOpsetImport() {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			m.Opset = o.GetVersion()
		}
	}
	g := mp.GetGraph()
	for _, t := range g.GetInitializer() {
		v, err := decodeTensor(t)
		if err != nil {
			return nil, fmt.Errorf("onnx: %s: %w", path, err)
		}
		m.consts[t.GetName()] = v
		if v.f != nil {
			m.Weights = append(m.Weights, &nn.Param{Name: t.GetName(), Shape: v.shape, Data: v.f})
		}
	}
	var inputs []ValueInfo
	for _, in := range g.GetInput() {
		if _, ok := m.consts[in.GetName()]; !ok { // old exports list weights as inputs too
			inputs = append(inputs, valueInfo(in))
		}
	}
	if len(inputs) != 1 || len(inputs[0].Shape) != 4 {
		return nil, fmt.Errorf("onnx: %s: ccface runs models with one image input N×C×H×W, this one has inputs %v", path, inputs)
	}
	m.Input = inputs[0]
	for _, o := range g.GetOutput() {
		m.Outputs = append(m.Outputs, valueInfo(o))
	}
	if err := m.checkWiring(); err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	return m, nil
}

// looksLikeModel says whether raw starts like a serialised ModelProto:
// ir_version (field 1, varint) is the first field every exporter writes.
func looksLikeModel(raw []byte) bool { return len(raw) > 1 && raw[0] == 0x08 && raw[1] < 0x20 }

// checkWiring finds what a cut file leaves behind: a node reading a value
// nothing defines, or an output no node writes.
func (m *Model) checkWiring() error {
	defined := map[string]bool{"": true, m.Input.Name: true}
	for name := range m.consts {
		defined[name] = true
	}
	for _, n := range m.Proto.GetGraph().GetNode() {
		for _, in := range n.GetInput() {
			if !defined[in] {
				return fmt.Errorf("node %s (%s) reads %q, which no earlier node or weight defines: the file is truncated or its nodes are not in order; export it again", nodeName(n), n.GetOpType(), in)
			}
		}
		for _, out := range n.GetOutput() {
			defined[out] = true
		}
	}
	for _, o := range m.Outputs {
		if !defined[o.Name] {
			return fmt.Errorf("output %q is computed by no node: the file is truncated; export it again", o.Name)
		}
	}
	return nil
}

func valueInfo(v *onnxpb.ValueInfoProto) ValueInfo {
	vi := ValueInfo{Name: v.GetName()}
	for _, d := range v.GetType().GetTensorType().GetShape().GetDim() {
		if dv, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); ok && dv.DimValue > 0 {
			vi.Shape = append(vi.Shape, int(dv.DimValue))
		} else {
			vi.Shape = append(vi.Shape, -1)
		}
	}
	return vi
}

func nodeName(n *onnxpb.NodeProto) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	return "→" + strings.Join(n.GetOutput(), ",")
}

// decodeTensor reads a TensorProto's values from raw_data or the typed
// field. Integer tensors (shapes, indices) are kept as int64.
func decodeTensor(t *onnxpb.TensorProto) (*tval, error) {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil, fmt.Errorf("tensor %q keeps its data in an external file; ccface reads self-contained models: in Python, onnx.save(onnx.load(path), out) writes one", t.GetName())
	}
	v := &tval{}
	for _, d := range t.GetDims() {
		v.shape = append(v.shape, int(d))
	}
	n := v.size()
	raw := t.GetRawData()
	bad := func(got int) error {
		return fmt.Errorf("tensor %q of shape %v holds %d values: the file is truncated or corrupt", t.GetName(), v.shape, got)
	}
	switch dt := onnxpb.TensorProto_DataType(t.GetDataType()); dt {
	case onnxpb.TensorProto_FLOAT:
		if raw != nil {
			if len(raw) != 4*n {
				return nil, bad(len(raw) / 4)
			}
			v.f = make([]float32, n)
			for i := range v.f {
				v.f[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		} else {
			if len(t.GetFloatData()) != n {
				return nil, bad(len(t.GetFloatData()))
			}
			v.f = append([]float32(nil), t.GetFloatData()...)
		}
	case onnxpb.TensorProto_DOUBLE:
		v.f = make([]float32, n)
		if raw != nil {
			if len(raw) != 8*n {
				return nil, bad(len(raw) / 8)
			}
			for i := range v.f {
				v.f[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
			}
		} else {
			if len(t.GetDoubleData()) != n {
				return nil, bad(len(t.GetDoubleData()))
			}
			for i, x := range t.GetDoubleData() {
				v.f[i] = float32(x)
			}
		}
	case onnxpb.TensorProto_INT64:
		if raw != nil {
			if len(raw) != 8*n {
				return nil, bad(len(raw) / 8)
			}
			v.i = make([]int64, n)
			for i := range v.i {
				v.i[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		} else {
			if len(t.GetInt64Data()) != n {
				return nil, bad(len(t.GetInt64Data()))
			}
			v.i = append([]int64(nil), t.GetInt64Data()...)
		}
	case onnxpb.TensorProto_INT32:
		v.i = make([]int64, n)
		if raw != nil {
			if len(raw) != 4*n {
				return nil, bad(len(raw) / 4)
			}
			for i := range v.i {
				v.i[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		} else {
			if len(t.GetInt32Data()) != n {
				return nil, bad(len(t.GetInt32Data()))
			}
			for i, x := range t.GetInt32Data() {
				v.i[i] = int64(x)
			}
		}
	default:
		return nil, fmt.Errorf("tensor %q has element type %v; ccface reads float, double, int32 and int64 tensors", t.GetName(), dt)
	}
	return v, nil
}

// Weight returns the float initialiser called name.
func (m *Model) Weight(name string) (*nn.Param, error) {
	for _, p := range m.Weights {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("onnx: %s has no weight %q", m.Path, name)
}

// Info summarises a model for `ccface model inspect`.
type Info struct {
	Inputs, Outputs []ValueInfo
	// OutputShapes are the outputs' shapes for one image at the size
	// measured (Side×Side).
	OutputShapes [][]int
	Opset        int64
	Producer     string
	Ops          map[string]int // operator → nodes
	Params       int            // float weights
	Side         [2]int         // the input size MACs were counted at (H, W)
	MACs         int64          // multiply-adds per image (Conv, Gemm, MatMul)
}

// OpList returns the operators with their counts, most frequent first.
func (in Info) OpList() []string {
	var ops []string
	for op := range in.Ops {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(a, b int) bool {
		if in.Ops[ops[a]] != in.Ops[ops[b]] {
			return in.Ops[ops[a]] > in.Ops[ops[b]]
		}
		return ops[a] < ops[b]
	})
	for i, op := range ops {
		ops[i] = fmt.Sprintf("%s ×%d", op, in.Ops[op])
	}
	return ops
}

// Info describes the model; MACs are counted at its declared input size,
// or at 640×640 when the file leaves the size open (detectors).
func (m *Model) Info() (Info, error) {
	in := Info{Inputs: []ValueInfo{m.Input}, Outputs: m.Outputs, Opset: m.Opset,
		Producer: strings.TrimSpace(m.Proto.GetProducerName() + " " + m.Proto.GetProducerVersion()),
		Ops:      map[string]int{}}
	for _, n := range m.Proto.GetGraph().GetNode() {
		in.Ops[n.GetOpType()]++
	}
	for _, p := range m.Weights {
		in.Params += len(p.Data)
	}
	h, w := m.Input.Shape[2], m.Input.Shape[3]
	if h < 1 || w < 1 {
		h, w = 640, 640
	}
	in.Side = [2]int{h, w}
	r, err := m.NewRunner(1, h, w)
	if err != nil {
		return in, err
	}
	in.MACs = r.MACs
	for i := range m.Outputs {
		in.OutputShapes = append(in.OutputShapes, r.OutputShape(i))
	}
	return in, nil
}

// WriteInfo describes the model on w for `ccface model inspect`: what goes
// in and out, what it is made of, what it costs, and how ccface feeds it.
func (m *Model) WriteInfo(w io.Writer) error {
	info, err := m.Info()
	if err != nil {
		return err
	}
	dims := func(s []int) string {
		var p []string
		for _, d := range s {
			if d < 0 {
				p = append(p, "?")
			} else {
				p = append(p, fmt.Sprint(d))
			}
		}
		return strings.Join(p, "×")
	}
	fmt.Fprintf(w, "%s (opset %d, %s)\n", m.Path, info.Opset, info.Producer)
	for _, in := range info.Inputs {
		fmt.Fprintf(w, "  input   %-10s %s\n", in.Name, dims(in.Shape))
	}
	for i, o := range info.Outputs {
		fmt.Fprintf(w, "  output  %-10s %s (one image at %d×%d: %s)\n", o.Name, dims(o.Shape), info.Side[0], info.Side[1], dims(info.OutputShapes[i]))
	}
	fmt.Fprintf(w, "  operators   %s\n", strings.Join(info.OpList(), ", "))
	fmt.Fprintf(w, "  parameters  %d (%.2f M)\n", info.Params, float64(info.Params)/1e6)
	fmt.Fprintf(w, "  multiply-adds per image at %d×%d: %.1f M\n", info.Side[0], info.Side[1], float64(info.MACs)/1e6)
	fmt.Fprintf(w, "  preprocessing: %s; grey images as three equal channels\n", m.Pre)
	return nil
}

// FaceSize returns the side of the square face crops a recogniser takes,
// with an error naming the file when its input is not 3 channels, not
// square or not fixed.
func (m *Model) FaceSize() (int, error) {
	if c := m.Input.Shape[1]; c != 3 && c != -1 {
		return 0, fmt.Errorf("onnx: %s: input %s has %d channels; ccface feeds RGB images (3 channels, grey as three equal ones): export a 3-channel model", m.Path, m.Input.Name, c)
	}
	h, w := m.Input.Shape[2], m.Input.Shape[3]
	if h < 1 || w < 1 {
		return 0, fmt.Errorf("onnx: %s: input %s has no fixed size (%v); a recogniser takes fixed square crops: export it with a fixed input such as 1×3×112×112", m.Path, m.Input.Name, m.Input.Shape)
	}
	if h != w {
		return 0, fmt.Errorf("onnx: %s: input %s is %d×%d; ccface takes square face crops: export the model with a square input", m.Path, m.Input.Name, h, w)
	}
	return h, nil
}
