package onnx

import (
	"sync"
	"testing"
)

// BenchmarkMobileFaceNetForward runs the shared recogniser's forward pass
// on a batch of 64 split over 2 graph replicas (one per core of the
// reference machine), as bench/torch_onnx.py does with 2 threads.
// Report: img/s (images per second of wall time).
//
//	go test ./engine/onnx/ -run '^$' -bench MobileFaceNet -benchtime 20x
func BenchmarkMobileFaceNetForward(b *testing.B) {
	m := loadShared(b, "mobilefacenet.onnx")
	const batch, replicas = 64, 2
	runners := make([]*Runner, replicas)
	for i := range runners {
		r, err := m.NewRunner(batch/replicas, 112, 112)
		if err != nil {
			b.Fatal(err)
		}
		for j := range r.Input() {
			r.Input()[j] = float32(j%251)/125 - 1
		}
		runners[i] = r
	}
	run := func() {
		var wg sync.WaitGroup
		for _, r := range runners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.Run(); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	run() // warm the buffer pools
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "img/s")
}
