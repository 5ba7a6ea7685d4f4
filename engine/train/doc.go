// Package train is ccface's training engine on gorgonia: it implements
// engine.Trainer, runs the teacher phase (margin softmax on HR faces) and the
// student phase (the teacher's classifier copied and frozen, classification
// consistency on LR views plus α times the HR term: the `proxyless` method of
// METHOD.md), evaluates each phase, and reports everything as events.
//
// # Concurrency
//
// One goroutine, started by Start, owns every tensor, the configuration in
// effect and the optimizer. Within a step it fans the batch out to one graph
// replica per core; replicas only read the shared parameters and each
// accumulates its own gradients, which the loop sums (exactly: per-sample
// loss weights already carry the 1/B) before stepping SGD. Control methods
// (SetKnob, Pause, ...) may be called from any goroutine: they validate
// against a mutex-guarded copy of the configuration with the requests still
// queued applied, enqueue the request, and return; the loop applies requests
// between steps and reports each as an event stamped with its step. Events go
// to an outbox that a sender goroutine flushes every 100 ms, so a slow or
// dead reader never blocks the loop; lifecycle events flush at once.
package train
