package train

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/nn"
	"github.com/ccface/ccface/engine/onnx"
)

// A run with model.teacher set distils a pretrained ONNX recogniser. Its
// teacher phase leaves the network frozen and trains only a cosine
// classifier over the training identities, started from their mean
// embeddings (the class centres a frozen network already gives) and trained
// with the run's margin head on the frozen embeddings, with live curves as
// any phase; teacher.epochs=0 keeps the class means. The student is a copy
// of the imported network (model.student=copy, the paper's setting) or a
// native residual CNN of the teacher's embedding size (native).

// ResolveTeacher completes a new run's configuration from its ONNX
// teacher: the file's sha256 (recorded, so resume and fork can check they
// use the same network), and the input side and embedding size, which are
// the model's.
func ResolveTeacher(cfg *engine.Config) error {
	if cfg.Model.Teacher == "" {
		return nil
	}
	sum, err := fileSHA256(cfg.Model.Teacher)
	if err != nil {
		return fmt.Errorf("model.teacher %s: %w", cfg.Model.Teacher, err)
	}
	// Recorded absolute: a resume from another directory finds the file,
	// and compare keys the same file the same way however it was named.
	if abs, err := filepath.Abs(cfg.Model.Teacher); err == nil {
		cfg.Model.Teacher = abs
	}
	cfg.Model.TeacherSHA256 = sum
	m, err := openTeacher(*cfg)
	if err != nil {
		return err
	}
	cfg.Data.HR, cfg.Model.Embed = m.Side(), m.EmbedDim()
	return nil
}

// loadTeacher opens the ONNX teacher of a run that recorded it, checking
// the file is the one the run started with.
func loadTeacher(cfg engine.Config) (*onnx.Model, error) {
	if cfg.Model.Teacher == "" {
		return nil, nil
	}
	sum, err := fileSHA256(cfg.Model.Teacher)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("model.teacher %s: no such file; this run was started with that ONNX model (sha256 %.12s…): put it back at that path", cfg.Model.Teacher, cfg.Model.TeacherSHA256)
	}
	if err != nil {
		return nil, fmt.Errorf("model.teacher %s: %w", cfg.Model.Teacher, err)
	}
	if cfg.Model.TeacherSHA256 != "" && sum != cfg.Model.TeacherSHA256 {
		return nil, fmt.Errorf("model.teacher %s has sha256 %.12s…, but this run was started with %.12s…: the file changed; put the original back at that path", cfg.Model.Teacher, sum, cfg.Model.TeacherSHA256)
	}
	m, err := openTeacher(cfg)
	if err != nil {
		return nil, err
	}
	if m.Side() != cfg.Data.HR || m.EmbedDim() != cfg.Model.Embed {
		return nil, fmt.Errorf("model.teacher %s takes %d px and gives %d-d embeddings, but the run has data.hr=%d and model.embed=%d", cfg.Model.Teacher, m.Side(), m.EmbedDim(), cfg.Data.HR, cfg.Model.Embed)
	}
	return m, nil
}

// openTeacher loads the ONNX file with the run's input convention and
// checks that it is a recogniser ccface can run.
func openTeacher(cfg engine.Config) (*onnx.Model, error) {
	m, err := onnx.Load(cfg.Model.Teacher)
	if err != nil {
		return nil, err
	}
	m.Pre = onnx.Preprocess{Mean: float32(cfg.Model.Mean), Std: float32(cfg.Model.Std), BGR: cfg.Model.Channels == "bgr"}
	if _, err := ONNXEmbedder(m); err != nil {
		return nil, err
	}
	return m, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// archs are the backbones of a run's two phases.
type archs struct{ teacher, student nn.Arch }

func archsOf(cfg engine.Config, m *onnx.Model) archs {
	if m == nil {
		a := arch(cfg)
		return archs{a, a}
	}
	t := nn.ImportedArch(m)
	if cfg.Model.Student == "native" {
		return archs{t, nn.Arch{HR: t.HR, Width: cfg.Model.Width, Depth: cfg.Model.Depth, Embed: t.Embed}}
	}
	return archs{t, t}
}

// classMeans sets the classifier's rows to the unit mean embedding of each
// training identity under the frozen teacher (HR images, no augmentation):
// a frozen network's class centres, the classifier its teacher phase starts
// from.
func (e *Engine) classMeans(w *nn.Param) error {
	a := e.archs.teacher
	side, dim := a.HR, a.Embed
	const chunk = 32
	net, err := nn.NewNet(nn.NetSpec{Arch: a, N: chunk}, e.st.Teacher, nil)
	if err != nil {
		return err
	}
	sums := make([]float64, w.Shape[0]*dim)
	px := make([]uint8, side*side*3)
	read := make([]bool, chunk)
	n := e.train.Len()
	for lo := 0; lo < n; lo += chunk {
		in := net.Input()
		clear(in)
		hi := min(lo+chunk, n)
		for i := lo; i < hi; i++ {
			// Unreadable images are left out, as the training loader skips them.
			read[i-lo] = e.train.Image(i, side, px) == nil
			if read[i-lo] {
				datasets.ToCHW(in[(i-lo)*3*side*side:(i-lo+1)*3*side*side], px, side)
			}
		}
		datasets.Normalise(in)
		if err := net.Run(); err != nil {
			return err
		}
		z := net.Embeddings()
		for i := lo; i < hi; i++ {
			if !read[i-lo] {
				continue
			}
			row := sums[e.train.Label(i)*dim:]
			for k, v := range z[(i-lo)*dim : (i-lo+1)*dim] {
				row[k] += float64(v)
			}
		}
	}
	for c := 0; c < w.Shape[0]; c++ {
		row := sums[c*dim : (c+1)*dim]
		var ss float64
		for _, v := range row {
			ss += v * v
		}
		inv := 1 / math.Sqrt(ss+1e-12)
		for k, v := range row {
			w.Data[c*dim+k] = float32(v * inv)
		}
	}
	return nil
}

// ExportONNX writes a checkpoint's model (which: engine.PhaseTeacher,
// engine.PhaseStudent, or "" for the student once it exists) to path as
// ONNX: the run's imported file with the trained weights in place, so its
// input and output names and opset are the original's. Only networks
// imported from ONNX can be written back: a native ccface network has no
// ONNX graph.
func ExportONNX(blob []byte, which, path string) (string, error) {
	ck, err := decodeCheckpoint(blob)
	if err != nil {
		return "", err
	}
	if ck.Config.Model.Teacher == "" {
		return "", errors.New("this session trained ccface's own network, which has no ONNX graph; export works for runs distilling an ONNX teacher (--teacher FILE.onnx)")
	}
	m, err := loadTeacher(ck.Config)
	if err != nil {
		return "", err
	}
	if which == "" {
		which = engine.PhaseTeacher
		if ck.State.Student != nil {
			which = engine.PhaseStudent
		}
	}
	weights := ck.State.Teacher
	switch which {
	case engine.PhaseTeacher:
	case engine.PhaseStudent:
		if ck.State.Student == nil {
			return "", fmt.Errorf("the checkpoint at step %d is from before the student phase: it has no student yet", ck.State.Step)
		}
		if ck.Config.Model.Student != "copy" {
			return "", errors.New("the student is a native ccface network (model.student=native), which has no ONNX graph; a copied student (model.student=copy) exports")
		}
		weights = ck.State.Student
	default:
		return "", fmt.Errorf("model %q: want teacher or student", which)
	}
	return which, m.Export(path, weights)
}
