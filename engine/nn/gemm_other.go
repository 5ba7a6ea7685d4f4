//go:build !amd64 || noasm

package nn

// pickKernel: without the amd64 kernels every product goes to blas32.
func pickKernel() microKernel { return microKernel{name: "blas32/" + blasName} }

// allKernels: there are none without the amd64 assembly.
func allKernels() []microKernel { return nil }
