package datasets

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Benchmarks for BENCHMARKS.md: decode throughput of each reader, and the
// memory of a training run over a RecordIO set larger than its cache.
//
//	go test ./datasets -run '^$' -bench 'Decode|LoaderOverCache' -benchtime 2x

// benchJPEGs returns n encoded 112×112 JPEG faces: real CelebA crops when
// the shared data is present (read from there, never copied into the repo),
// else synthetic faces.
func benchJPEGs(b *testing.B, n int) [][]byte {
	b.Helper()
	var out [][]byte
	if files, _ := filepath.Glob(filepath.Join(sharedData, "celeba298", "*", "*.jpg")); len(files) > 0 {
		for i := 0; i < n; i++ {
			data, err := os.ReadFile(files[i%len(files)])
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, data)
		}
		return out
	}
	syn, _, err := Synthetic(SynthConfig{Seed: 1, TrainIDs: max(1, min(n, 200)/4), EvalIDs: 1, PerID: 4, Size: 112})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		px := syn.Pixels[i%syn.Len()]
		img := image.NewRGBA(image.Rect(0, 0, 112, 112))
		for o := 0; o < 112*112; o++ {
			copy(img.Pix[4*o:], px[3*o:3*o+3])
			img.Pix[4*o+3] = 255
		}
		var buf bytes.Buffer
		jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
		out = append(out, buf.Bytes())
	}
	return out
}

// writeBenchRec writes images as an im2rec-style .rec/.idx (labels i/perID),
// in the format gen.py writes (single-part records here: a benchmark, not a
// format check).
func writeBenchRec(b *testing.B, stem string, images [][]byte, perID int) {
	b.Helper()
	var rec, idx bytes.Buffer
	for i, img := range images {
		fmt.Fprintf(&idx, "%d\t%d\n", i, rec.Len())
		data := make([]byte, irHeaderSize, irHeaderSize+len(img))
		binary.LittleEndian.PutUint32(data[4:], math.Float32bits(float32(i/perID)))
		data = append(data, img...)
		binary.Write(&rec, binary.LittleEndian, recMagic)
		binary.Write(&rec, binary.LittleEndian, uint32(len(data)))
		rec.Write(data)
		rec.Write(make([]byte, (4-len(data)%4)%4))
	}
	if err := os.WriteFile(stem+".rec", rec.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(stem+".idx", idx.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
}

// benchDecode decodes every image of src at 32 px on a bounded pool per
// iteration and reports images/s.
func benchDecode(b *testing.B, src Source) {
	b.ResetTimer()
	t0 := time.Now()
	for b.Loop() {
		if _, errs := decodeAll(src, 32, 0); errs[0] != nil {
			b.Fatal(errs[0])
		}
	}
	b.ReportMetric(float64(b.N*src.Len())/time.Since(t0).Seconds(), "images/s")
}

func BenchmarkDecode(b *testing.B) {
	const n = 2000
	images := benchJPEGs(b, n)
	dir := b.TempDir()
	b.Run("recordio", func(b *testing.B) {
		writeBenchRec(b, filepath.Join(dir, "t"), images, 10)
		r, err := OpenRecordIO(filepath.Join(dir, "t.rec"))
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		benchDecode(b, r)
	})
	b.Run("bin", func(b *testing.B) {
		benchDecode(b, &memSource{name: "bench", images: images})
	})
	b.Run("folder", func(b *testing.B) {
		for i, img := range images {
			p := filepath.Join(dir, "f", fmt.Sprintf("id%03d", i/10), fmt.Sprintf("%d.jpg", i))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, img, 0o644)
		}
		src, err := OpenFolderSource(filepath.Join(dir, "f"))
		if err != nil {
			b.Fatal(err)
		}
		benchDecode(b, src)
	})
}

// BenchmarkLoaderOverCache trains-reads one epoch of batches of 64 at 32 px
// from a .rec of n images through a 1,000-image cache and reports the peak
// heap, sampled every batch: it should stay flat as n grows.
func BenchmarkLoaderOverCache(b *testing.B) {
	for _, n := range []int{4000, 16000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			stem := filepath.Join(b.TempDir(), "t")
			writeBenchRec(b, stem, benchJPEGs(b, n), 20)
			r, err := OpenRecordIO(stem + ".rec")
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base := ms.HeapInuse
			var peak uint64
			t0 := time.Now()
			steps := 0
			for b.Loop() {
				l, err := NewSourceLoader(r, 32, 64, 1, LoaderOptions{CacheBytes: 1000 * 3 * 32 * 32})
				if err != nil {
					b.Fatal(err)
				}
				var batch Batch
				for i := 0; i < l.StepsPerEpoch(); i++ {
					l.Fill(&batch, 0, i, DefaultDegrade(), 0, true)
					steps++
					if i%8 == 0 {
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse)
					}
				}
				l.Close()
			}
			b.ReportMetric(float64(steps*64)/time.Since(t0).Seconds(), "images/s")
			b.ReportMetric(float64(peak-min(peak, base))/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(n*3*32*32)/(1<<20), "in-memory-set-MiB")
		})
	}
}
