// Package eval owns ccface's evaluation metrics, the protocols of METHOD.md
// "Evaluation protocols": LFW-style verification (k-fold accuracy, ROC AUC,
// TAR at fixed FAR), TinyFace-style open-set identification (CMC, mAP), the
// pair and gallery/probe splits they run on, and the LR-cluster check.
//
// It works on plain embeddings ([][]float32) and scores ([]float64), knows
// nothing of models or tensors, and uses only the standard library, so the
// trainer, the TUI and offline tools can all call it. Every random choice is
// driven by an explicit seed; the package holds no mutable state.
//
// Undefined metrics (no impostor pairs, no scorable probe, ...) are NaN,
// never a made-up 0 or 1: callers that serialise results must handle NaN.
package eval
