// Package nn holds ccface's networks and losses on gorgonia (float32): the
// residual CNN backbone, the cosine classifier, the margin-softmax loss with
// per-sample margins, and SGD.
//
// gorgonia has ops with wrong gradients (see GORGONIA.md), so the numerically
// delicate parts are custom ops with hand-written backward passes (row
// normalisation, the fused margin cross-entropy), each checked against finite
// differences in the tests.
//
// # Speed
//
// The backbone is built from our own ops too, for speed: gorgonia's Conv2d,
// MaxPool2D, BroadcastAdd and Rectify spent most of a step in transposes,
// im2col, fresh allocations and pure-Go BLAS. Here
//
//   - feature maps are channel-major [C,N,H,W] inside the backbone, so a
//     convolution of the whole batch is one product whose result is the
//     next layer's input (conv.go);
//   - the products never materialise the patch matrix: patches are built a
//     panel at a time in cache and fed to register-blocked AVX-512/AVX2+FMA
//     kernels in Go assembly (convgemm.go, gemm.go, gen_kernels.go); other
//     CPUs fall back to gonum's blas32, or OpenBLAS with `-tags openblas`;
//     CCFACE_GEMM=avx2|blas overrides the choice for measurements;
//   - group norm, bias and ReLU are one op, as are the residual add and its
//     ReLU; their loops are branch-free, in AVX-512 where available
//     (layers.go, ew_amd64.s);
//   - every op keeps its output and scratch buffers across runs, so a
//     training step allocates a few tens of kilobytes (buffers.go).
//
// The fused ops are checked against gorgonia's (conv_test.go compares with
// Conv2d, reference_test.go runs the whole original graph side by side) and
// against finite differences (layers_test.go).
//
// # Concurrency
//
// A Net is one compiled graph for a fixed number of images. Parameters are
// shared: several Nets (graph replicas) may bind the same Params and run
// concurrently, since a run only reads parameter values; each Net accumulates
// its own gradients, and the caller sums them and steps the optimizer while
// no Net runs. Each Net owns its scratch (workspace, op buffers): a Net must
// not run on two goroutines at once, and the values it returns (Embeddings,
// Norms, Grads) are overwritten by its next run.
package nn
