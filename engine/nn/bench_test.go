package nn

import (
	"fmt"
	"math/rand"
	"sync"
	"testing"
)

// benchNets builds `replicas` loss graphs that split a batch of 64 HR-32
// images over shared default-size parameters.
func benchNets(b *testing.B, width, replicas int) []*Net {
	rng := rand.New(rand.NewSource(1))
	a := Arch{HR: 32, Width: width, Depth: 1, Embed: 128}
	bb, err := NewBackbone(a, rng)
	if err != nil {
		b.Fatal(err)
	}
	cls := NewClassifier(300, a.Embed, rng)
	nets := make([]*Net, replicas)
	for r := range nets {
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
		nets[r] = net
	}
	return nets
}

// BenchmarkTrainStep measures forward+backward of a 64-image batch; the
// optimizer step is not included (it is O(params), tiny next to this).
// One untimed step first lets the ops allocate their buffers, so B/op is the
// steady state. cpu-ms/step is the process's CPU time per step: on a shared
// machine it shows the work a step costs when the wall time (img/s) is
// stretched by other processes.
func BenchmarkTrainStep(b *testing.B) {
	for _, width := range []int{8, 16} {
		for _, replicas := range []int{1, 2} {
			b.Run(fmt.Sprintf("width%d/replicas%d", width, replicas), func(b *testing.B) {
				nets := benchNets(b, width, replicas)
				step := func() {
					var wg sync.WaitGroup
					for _, n := range nets {
						wg.Add(1)
						go func(n *Net) {
							defer wg.Done()
							if err := n.Run(); err != nil {
								b.Error(err)
							}
							_ = n.ZeroGrads()
						}(n)
					}
					wg.Wait()
				}
				step()
				cpu0 := cpuTime()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					step()
				}
				b.StopTimer()
				b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "img/s")
				if cpu := cpuTime() - cpu0; cpu > 0 {
					b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/step")
				}
			})
		}
	}
}
