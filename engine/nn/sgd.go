package nn

import "strings"

// SGD is stochastic gradient descent with momentum and weight decay, in
// PyTorch's formulation (v ← μv + g + λp; p ← p − lr·v). Biases are not
// decayed. Its state is plain data so checkpoints can hold it.
type SGD struct {
	Velocity [][]float32
}

// Step updates ps in place from grads (one slice per parameter, same order).
func (s *SGD) Step(ps Params, grads [][]float32, lr, momentum, weightDecay float64) {
	if len(s.Velocity) != len(ps) {
		s.Velocity = make([][]float32, len(ps))
		for i, p := range ps {
			s.Velocity[i] = make([]float32, len(p.Data))
		}
	}
	mu, eta := float32(momentum), float32(lr)
	for i, p := range ps {
		wd := float32(weightDecay)
		if strings.HasSuffix(p.Name, ".b") {
			wd = 0
		}
		v, g := s.Velocity[i], grads[i]
		for j, w := range p.Data {
			v[j] = mu*v[j] + g[j] + wd*w
			p.Data[j] = w - eta*v[j]
		}
	}
}
