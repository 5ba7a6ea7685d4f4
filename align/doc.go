// Package align turns faces as users have them (photos, frames, loose
// crops) into faces as recognisers expect them: detected with insightface's
// SCRFD model (run by engine/onnx), aligned by a similarity transform from
// their five landmarks to the ArcFace 112×112 template, and warped at the
// output size.
//
// It owns: SCRFD's pre- and post-processing as insightface does it
// (letterbox, anchor centres per stride, distance decoding, threshold,
// NMS; Detector), the least-squares similarity and the template
// (EstimateSimilarity, Template), the resampling warp (Warp), the batch
// alignment of a folder, .rec or image into an identity folder with its
// report and contact sheet (Run, behind `ccface data align`, and what the
// command prints when done: Report.WriteOutcome), and the
// cache of aligned copies that data.align reads through (Cached).
//
// Each image's problems (unreadable, no face, several faces) are its
// status in the Report, never an error; only a set with no face at all,
// or failing to write, is.
//
// # Concurrency
//
// A Detector owns its graph runners and must stay on one goroutine; Run
// gives each worker its own, all sharing one onnx.Model (runs only read
// the weights). The package has no mutable package-level state.
//
// It may import datasets and engine/onnx; engine/train imports it for
// data.align, and nothing below it may (deps_test.go).
package align
