package nn

import (
	"fmt"
	"math/rand"
	"sync"
	"testing"
)

// benchSetup is a training step as engine/train runs it: `replicas` loss
// graphs splitting a batch of 64 HR-32 images over shared parameters, their
// gradients summed, and an SGD step.
type benchSetup struct {
	nets    []*Net
	trained Params
	sum     [][]float32
	opt     SGD
}

func newBenchSetup(b *testing.B, a Arch, replicas int) *benchSetup {
	rng := rand.New(rand.NewSource(1))
	bb, err := NewBackbone(a, rng)
	if err != nil {
		b.Fatal(err)
	}
	cls := NewClassifier(300, a.Embed, rng)
	s := &benchSetup{}
	for r := 0; r < replicas; r++ {
		n := 64 / replicas
		net, err := NewNet(NetSpec{Arch: a, N: n, Loss: true, TrainBackbone: true, TrainClassifier: true}, bb, cls)
		if err != nil {
			b.Fatal(err)
		}
		for i := range net.Input() {
			net.Input()[i] = float32(rng.NormFloat64())
		}
		net.Head.Labels = make([]int, n)
		net.Head.Weights = make([]float32, n)
		for i := range net.Head.Labels {
			net.Head.Labels[i] = rng.Intn(300)
			net.Head.Weights[i] = 1.0 / 64
		}
		net.Head.Scale = 32
		net.Head.Margin = func(int, SampleStat) (float64, float64) { return 0.4, 0 }
		s.nets = append(s.nets, net)
	}
	s.trained = s.nets[0].Trained()
	for _, p := range s.trained {
		s.sum = append(s.sum, make([]float32, len(p.Data)))
	}
	return s
}

func (s *benchSetup) step(b *testing.B) {
	var wg sync.WaitGroup
	for _, n := range s.nets {
		wg.Add(1)
		go func(n *Net) {
			defer wg.Done()
			if err := n.Run(); err != nil {
				b.Error(err)
			}
		}(n)
	}
	wg.Wait()
	for _, g := range s.sum {
		clear(g)
	}
	for _, n := range s.nets {
		grads, err := n.Grads()
		if err != nil {
			b.Fatal(err)
		}
		for i, g := range grads {
			for j, v := range g {
				s.sum[i][j] += v
			}
			clear(g)
		}
	}
	s.opt.Step(s.trained, s.sum, 0.01, 0.9, 5e-4)
}

// trainFLOPs counts the floating-point operations of one image's training
// step in the products (2 per multiply-add): each convolution's forward,
// weight-gradient and (but for the stem) input-gradient product, and the
// same three for the FC layer and the cosine classifier. Normalisation,
// pooling and activations are left out (a few percent).
func trainFLOPs(a Arch, classes int) float64 {
	ch := a.stageChannels()
	var macs float64
	conv := func(cin, cout, side int, stem bool) {
		m := float64(cout * cin * 9 * side * side)
		if stem {
			macs += 2 * m
		} else {
			macs += 3 * m
		}
	}
	conv(3, ch[0], a.HR, true)
	for s := 1; s < 3; s++ {
		side := a.HR >> s
		conv(ch[s-1], ch[s], side, false)
		for d := 0; d < a.Depth; d++ {
			conv(ch[s], ch[s], side, false)
			conv(ch[s], ch[s], side, false)
		}
	}
	macs += 3 * float64(a.flatDim()*a.Embed)
	macs += 3 * float64(a.Embed*classes)
	return 2 * macs
}

// BenchmarkTrainStep measures a whole step on a 64-image batch: forward and
// backward in each replica, the gradient sum and SGD, as engine/train does
// (data loading aside). One untimed step first lets the ops allocate their
// buffers, so B/op is the steady state. cpu-ms/step is the process's CPU
// time per step: on a shared machine it shows the work a step costs when
// the wall time (img/s) is stretched by other processes. GFLOP/s counts the
// products only (trainFLOPs).
func BenchmarkTrainStep(b *testing.B) {
	for _, width := range []int{8, 16, 32} {
		for _, replicas := range []int{1, 2} {
			b.Run(fmt.Sprintf("width%d/replicas%d", width, replicas), func(b *testing.B) {
				a := Arch{HR: 32, Width: width, Depth: 1, Embed: 128}
				s := newBenchSetup(b, a, replicas)
				s.step(b)
				cpu0 := cpuTime()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					s.step(b)
				}
				b.StopTimer()
				ips := float64(64*b.N) / b.Elapsed().Seconds()
				b.ReportMetric(ips, "img/s")
				b.ReportMetric(ips*trainFLOPs(a, 300)/1e9, "GFLOP/s")
				if cpu := cpuTime() - cpu0; cpu > 0 {
					b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/step")
				}
				if rss := peakRSS(); rss > 0 {
					b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
				}
			})
		}
	}
}

// BenchmarkKernelPeak runs the GEMM micro-kernel on operands that stay in
// L1: the FLOP rate one core reaches at best, the yardstick for the
// products' efficiency in BenchmarkTrainStep.
func BenchmarkKernelPeak(b *testing.B) {
	for _, kern := range allKernels() {
		b.Run(kern.name, func(b *testing.B) {
			const k = 256
			a := make([]float32, k*kern.mr)
			bb := make([]float32, k*kern.nr)
			c := make([]float32, kern.mr*kern.nr)
			for i := range a {
				a[i] = 1e-3
			}
			for i := range bb {
				bb[i] = 1e-3
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				kern.fn(k, &a[0], &bb[0], kern.nr, &c[0], kern.nr, true)
			}
			b.ReportMetric(2*float64(k*kern.mr*kern.nr)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
