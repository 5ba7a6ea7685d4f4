package onnx

import (
	"fmt"
	"math/rand"
	goruntime "runtime"
	"sync"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
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

// BenchmarkMobileFaceNetFineTuneStep runs one fine-tuning step of the
// shared recogniser at batch 64, split over 2 graph replicas of 32 (as the
// engine runs them): forward and backward of the graph Build makes for
// training, through the loss Σ y⊙R, and a plain SGD update of the shared
// weights. bench/torch_finetune.py is the PyTorch side.
// Report: img/s, and GFLOP/s counting a training step as 3× the forward
// multiply-adds (forward, input gradient, weight gradient), 2 FLOP each.
//
//	go test ./engine/onnx/ -run '^$' -bench FineTuneStep -benchtime 10x
func BenchmarkMobileFaceNetFineTuneStep(b *testing.B) {
	m := loadShared(b, "mobilefacenet.onnx")
	const batch, replicas = 64, 2
	weights := m.TrainableWeights()
	type replica struct {
		bt    *built
		vm    G.VM
		grads []*G.Node
	}
	reps := make([]*replica, replicas)
	for i := range reps {
		bt := buildGraph(b, m, batch/replicas, weights, true)
		for j := range bt.x {
			bt.x[j] = float32((j+i)%251)/125 - 1
		}
		r := make([]float32, prod(bt.out.Shape()))
		for j := range r {
			r[j] = float32(j%7) - 3
		}
		rn := G.NewTensor(bt.g, tensor.Float32, 2, G.WithShape(bt.out.Shape()...), G.WithName("R"),
			G.WithValue(tensor.New(tensor.WithShape(bt.out.Shape()...), tensor.WithBacking(r))))
		yr, err := G.HadamardProd(bt.out, rn)
		if err != nil {
			b.Fatal(err)
		}
		loss, err := G.Sum(yr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := G.Grad(loss, bt.nodes...); err != nil {
			b.Fatal(err)
		}
		reps[i] = &replica{bt: bt, vm: G.NewTapeMachine(bt.g, G.BindDualValues(bt.nodes...)), grads: bt.nodes}
	}
	step := func() {
		var wg sync.WaitGroup
		for _, r := range reps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.vm.RunAll(); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		for i, p := range weights { // SGD on the summed replica gradients
			for _, r := range reps {
				gv, err := r.grads[i].Grad()
				if err != nil {
					b.Fatal(err)
				}
				gd := gv.Data().([]float32)
				for j, v := range gd {
					p.Data[j] -= 1e-9 * v
				}
				clear(gd)
			}
		}
		for _, r := range reps {
			r.vm.Reset()
		}
	}
	step() // allocate every buffer
	info, err := m.Info()
	if err != nil {
		b.Fatal(err)
	}
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	alloc0 := ms.TotalAlloc
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.StopTimer()
	goruntime.ReadMemStats(&ms)
	imgs := float64(batch*b.N) / b.Elapsed().Seconds()
	b.ReportMetric(imgs, "img/s")
	b.ReportMetric(imgs*3*2*float64(info.MACs)/1e9, "GFLOP/s")
	b.ReportMetric(float64(ms.TotalAlloc-alloc0)/float64(b.N)/(1<<20), "MiB-alloc/step")
}

// BenchmarkDepthwiseTaps runs one channel of a 3×3 stride-1 depthwise
// convolution on a 28×28 map (MobileFaceNet's second stage) in the padded
// layout, operands in L1: the tap kernel alone, one core.
func BenchmarkDepthwiseTaps(b *testing.B) {
	const wph, ho = 30, 28
	src := make([]float32, (ho+2)*wph+64)
	for i := range src {
		src[i] = float32(i%7) * 0.1
	}
	var offs []int
	for ky := 0; ky < 3; ky++ {
		for kx := 0; kx < 3; kx++ {
			offs = append(offs, 4*(ky*wph+kx))
		}
	}
	w := make([]float32, 9)
	dst := make([]float32, (ho*wph+7)&^7)
	for i := 0; i < b.N; i++ {
		dwTaps(dst, src, offs, w, 0, 0, 6)
	}
	b.ReportMetric(2*9*float64(len(dst))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkDepthwisePlanes runs a 3×3 stride-1 depthwise convolution of
// 128 channels at MobileFaceNet's map sizes, one core: in place
// (depthwise3x3) and through the phase layout (copy in, taps, copy out).
//
//	go test ./engine/onnx/ -run '^$' -bench DepthwisePlanes
func BenchmarkDepthwisePlanes(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	for _, hw := range []int{56, 28, 14} {
		g := &convGeom{n: 1, cin: 128, h: hw, w: hw, cout: 128, kh: 3, kw: 3, sh: 1, sw: 1, pt: 1, pl: 1, pb: 1, pr: 1,
			ho: hw, wo: hw, group: 128, depthwise: true, lo: 0, hi: 6, hasBias: true}
		size := g.cin * hw * hw
		x, w, bias, dst := randn(rng, size), randn(rng, 9*g.cin), randn(rng, g.cin), make([]float32, size)
		for _, inPlace := range []bool{true, false} {
			b.Run(fmt.Sprintf("%dx%d/inPlace=%v", hw, hw, inPlace), func(b *testing.B) {
				if inPlace && !depthwise3x3(g, dst, x, w, bias) {
					b.Skip("no in-place kernel on this CPU")
				}
				rt := &runtime{}
				for i := 0; i < b.N; i++ {
					if inPlace {
						depthwise3x3(g, dst, x, w, bias)
					} else {
						depthwisePhases(rt, g, dst, x, w, bias)
					}
				}
				b.ReportMetric(float64(2*9*size*b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
