// Package engine is the contract between ccface's training engine and
// everything that observes or steers it: Config and its knobs, the live
// Hyper, the Event kinds and the Trainer interface.
//
// It holds no tensors and imports no numeric library, so the TUI, the plots
// and the session store can depend on it without pulling in gorgonia. The
// gorgonia implementation lives in engine/train; networks and losses in
// engine/nn; evaluation metrics in engine/eval.
//
// # Concurrency
//
// A Trainer runs its step loop on one goroutine that owns every model
// tensor. Control methods may be called from any goroutine: they validate at
// once and queue the request; the loop applies queued requests between steps
// and reports each as an event. Events are delivered in batches on one
// channel; per-step points are coalesced so a slow reader never blocks the
// loop, and lifecycle events are never dropped.
package engine
