package nn

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

func denseOf(data []float32, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// checkFiniteDifferences compares an analytic gradient of loss with respect
// to x, coordinate by coordinate, with central differences of step eps,
// within rtol relative (absolute below 1).
func checkFiniteDifferences(t *testing.T, x, grad []float32, loss func() float64, eps float32, rtol float64) {
	t.Helper()
	for k := range x {
		orig := x[k]
		x[k] = orig + eps
		up := loss()
		x[k] = orig - eps
		dn := loss()
		x[k] = orig
		if fd := (up - dn) / (2 * float64(eps)); math.Abs(fd-float64(grad[k])) > rtol*math.Max(1, math.Abs(fd)) {
			t.Fatalf("gradient[%d] = %v, finite difference %v", k, grad[k], fd)
		}
	}
}
