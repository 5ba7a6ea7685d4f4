// Package nn holds ccface's networks and losses on gorgonia (float32): the
// residual CNN backbone, the cosine classifier, the margin-softmax loss with
// per-sample margins, and SGD.
//
// gorgonia has ops with wrong gradients (see GORGONIA.md), so the numerically
// delicate parts are custom ops with hand-written backward passes (row
// normalisation, the fused margin cross-entropy), each checked against finite
// differences in the tests; the convolutional body uses gorgonia's own ops,
// checked the same way at the level of the whole network.
//
// A Net is one compiled graph for a fixed number of images. Parameters are
// shared: several Nets (graph replicas) may bind the same Params and run
// concurrently, since a run only reads parameter values; each Net accumulates
// its own gradients, and the caller sums them and steps the optimizer while
// no Net runs.
package nn
