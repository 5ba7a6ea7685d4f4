package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
)

// writeRec writes a set as an insightface-style RecordIO pair (.rec/.idx):
// per record the magic, the length, a 24-byte IRHeader (flag, label, id,
// id2) and a PNG, padded to 4 bytes.
func writeRec(t *testing.T, stem string, set *datasets.Set) {
	t.Helper()
	var rec, idx bytes.Buffer
	for i, px := range set.Pixels {
		img := image.NewRGBA(image.Rect(0, 0, set.Size, set.Size))
		for o := 0; o < set.Size*set.Size; o++ {
			copy(img.Pix[4*o:], px[3*o:3*o+3])
			img.Pix[4*o+3] = 255
		}
		var enc bytes.Buffer
		if err := png.Encode(&enc, img); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&idx, "%d\t%d\n", i, rec.Len())
		header := make([]byte, 24)
		binary.LittleEndian.PutUint32(header[4:], math.Float32bits(float32(set.Labels[i])))
		binary.LittleEndian.PutUint64(header[8:], uint64(i))
		data := append(header, enc.Bytes()...)
		_ = binary.Write(&rec, binary.LittleEndian, uint32(0xced7230a))
		_ = binary.Write(&rec, binary.LittleEndian, uint32(len(data)))
		rec.Write(data)
		rec.Write(make([]byte, (4-len(data)%4)%4))
	}
	if err := os.WriteFile(stem+".rec", rec.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stem+".idx", idx.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTrainsFromRecordIO: a .rec is split by identity, streamed for
// training and evaluated like any other set.
func TestTrainsFromRecordIO(t *testing.T) {
	cfg := tinyConfig()
	faces, _, err := datasets.Synthetic(datasets.SynthConfig{Seed: 4, TrainIDs: 16, EvalIDs: 1, PerID: 8, Size: cfg.Data.HR})
	if err != nil {
		t.Fatal(err)
	}
	stem := filepath.Join(t.TempDir(), "train")
	writeRec(t, stem, faces)
	cfg.Data.Source = stem + ".rec"
	cfg.Teacher.Epochs, cfg.Student.Epochs = 2, 1
	data, err := LoadData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, ev := data.Train, data.Eval
	if tr.NumIDs()+ev.NumIDs() != 16 || tr.Len()+ev.Len() != 128 {
		t.Fatalf("split %d+%d identities, %d+%d images; want 16 and 128", tr.NumIDs(), ev.NumIDs(), tr.Len(), ev.Len())
	}
	if _, ok := tr.(*datasets.Set); ok {
		t.Fatal("training data was loaded into memory, want a streamed source")
	}
	e, err := New(cfg, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.Start(context.Background())
	evals := 0
	for _, ev := range collect(t, e) {
		switch ev.Kind {
		case engine.KindFailed:
			t.Fatal(ev.Message)
		case engine.KindEval:
			evals++
		}
	}
	if evals != 2 {
		t.Fatalf("%d evaluations, want 2", evals)
	}
}

// TestTrainingTimeEvaluationSet: with data.eval naming a verification .bin,
// evaluations score exactly its pairs (and no identification).
func TestTrainingTimeEvaluationSet(t *testing.T) {
	cfg := tinyConfig()
	cfg.Teacher.Epochs, cfg.Student.Epochs = 1, 1
	cfg.Data.EvalSource = filepath.Join("..", "..", "datasets", "testdata", "bin", "lfw_p4.bin")
	data, err := LoadData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(data.Protocol.Pairs) == 0 || data.Protocol.Identify {
		t.Fatalf("protocol %+v: want the file's pairs, no identification", data.Protocol)
	}
	e, err := New(cfg, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.Start(context.Background())
	evals := 0
	for _, ev := range collect(t, e) {
		if ev.Kind == engine.KindEval {
			evals++
			if _, ok := ev.Values[engine.EvalKey("hr", engine.EVerifAcc)]; !ok {
				t.Errorf("no verification accuracy: %v", ev.Values)
			}
			if _, ok := ev.Values[engine.EvalKey("hr", engine.ERank1)]; ok {
				t.Errorf("identification scored on a pairs-only set: %v", ev.Values)
			}
		}
	}
	if evals != 2 {
		t.Fatalf("%d evaluations, want 2", evals)
	}
}
