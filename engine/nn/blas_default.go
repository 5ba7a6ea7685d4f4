//go:build !openblas

package nn

// blasName names blas32's implementation: gonum's pure Go one by default.
const blasName = "gonum"
