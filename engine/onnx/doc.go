// Package onnx imports ONNX models (pretrained face recognisers and
// detectors) and runs them on the engine's own kernels inside a gorgonia
// graph, in pure Go.
//
// It owns: reading a .onnx file (protobuf types generated from the official
// schema, in onnxpb), its weights as named nn.Params (shared by every graph
// built from the model, so a trainer can update them and the ModelProto can
// be written back), the operators of insightface-style recognisers and of
// the SCRFD detector, and Runner: one compiled graph for a fixed batch and
// input size. Model.Build wires the same operators into a caller's graph
// (the training engine's), with the backward pass of every operator when
// the graph trains (convgrad.go, opsgrad.go), Model.Export writes
// trained weights back into the file's ModelProto, and Model.Info and
// WriteInfo describe a model for `ccface model inspect`.
//
// Each ONNX node becomes one custom gorgonia op whose output buffer comes
// from a per-runner pool and goes back to it once its last reader has run,
// so an inference graph holds only its live activations; a training graph
// keeps every activation for its backward pass. A convolution takes over
// the node that alone reads its output when it can do that node's work as
// it writes: a Relu or Clip (any graph), a residual Add of a same-shaped
// tensor (inference graphs only: a backward pass needs the sum's parts).
// In an inference graph, convolutions that follow one another (each the
// only reader of the one before, as in a MobileNet block: expand, depthwise,
// project) are one op that runs the chain image by image, so an image's
// intermediate maps stay in cache between convolutions and exist only one
// image at a time. Shape arithmetic (Shape, Gather, Unsqueeze, Concat,
// Slice on shapes) is folded at build time: the input size is fixed when
// a Runner is built.
//
// It must not import sessions, tui or plots (engine/deps_test.go).
package onnx
