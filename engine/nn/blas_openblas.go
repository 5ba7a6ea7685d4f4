//go:build openblas

package nn

// The openblas build sends blas32 to the system's OpenBLAS (Debian:
// libopenblas-dev) through cgo. The Go kernels still run where the CPU has
// them, as they beat OpenBLAS on this network (BENCHMARKS.md): they build
// the patch matrix panel by panel in cache, which a BLAS call cannot.
// OpenBLAS serves CPUs without them (arm64, x86 without AVX2), or any CPU
// with CCFACE_GEMM=blas.
import _ "github.com/ccface/ccface/engine/nn/internal/openblas"

const blasName = "openblas"
