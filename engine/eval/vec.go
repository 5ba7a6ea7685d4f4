package eval

import (
	"fmt"
	"math"
)

// Cosine returns the cosine of the angle between a and b, which need not be
// unit vectors. A zero vector has cosine 0 with everything, so a collapsed
// embedding scores as "unrelated" rather than NaN.
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("eval.Cosine: lengths %d and %d differ", len(a), len(b)))
	}
	var ab, aa, bb float64
	for i, x := range a {
		y := float64(b[i])
		ab += float64(x) * y
		aa += float64(x) * float64(x)
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// normalizeFlat copies vs into one contiguous row-major slice of unit rows,
// so that every later cosine is a plain dot product over cache-friendly
// memory. Zero rows stay zero. It panics on ragged input.
func normalizeFlat(vs [][]float32, what string) (flat []float32, dim int) {
	if len(vs) == 0 {
		return nil, 0
	}
	dim = len(vs[0])
	flat = make([]float32, len(vs)*dim)
	for i, v := range vs {
		if len(v) != dim {
			panic(fmt.Sprintf("eval: %s[%d] has length %d, want %d", what, i, len(v), dim))
		}
		var ss float64
		for _, x := range v {
			ss += float64(x) * float64(x)
		}
		row := flat[i*dim : (i+1)*dim]
		if ss == 0 {
			continue
		}
		inv := 1 / math.Sqrt(ss)
		for k, x := range v {
			row[k] = float32(float64(x) * inv)
		}
	}
	return flat, dim
}

// dot is the float32 inner product; four accumulators break the add
// dependency chain, which is most of the speed available to scalar Go.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
