package engine

import "sync"

// Hub fans one Trainer's events out to any number of observers (the session
// recorder, the TUI, SSH clients). Each subscriber has its own unbounded
// queue, so a slow one delays nobody; a new subscriber first receives the
// history so far, so its curves start complete.
type Hub struct {
	tr      Trainer
	mu      sync.Mutex
	history []Event
	prior   int // leading history events that came from before this run
	subs    map[*subscriber]struct{}
	closed  bool
}

// NewHub starts forwarding tr's events. prior events (the recorded
// history of a resumed run) are replayed to every subscriber before the
// run's own, so curves and knob markers start where the run began.
func NewHub(tr Trainer, prior ...Event) *Hub {
	h := &Hub{tr: tr, subs: map[*subscriber]struct{}{}, history: append([]Event(nil), prior...), prior: len(prior)}
	go h.run()
	return h
}

func (h *Hub) run() {
	for batch := range h.tr.Events() {
		h.mu.Lock()
		h.history = append(h.history, batch...)
		for s := range h.subs {
			s.push(batch)
		}
		h.mu.Unlock()
	}
	h.mu.Lock()
	h.closed = true
	for s := range h.subs {
		s.finish()
	}
	h.mu.Unlock()
}

// Subscribe returns a Trainer whose Events replay the history and then
// follow the run; cancel releases it (its channel then closes).
func (h *Hub) Subscribe() (tr Trainer, cancel func()) { return h.subscribe(0) }

// SubscribeRun is Subscribe without the prior events: only what this run
// emits (a session recorder appends exactly these).
func (h *Hub) SubscribeRun() (tr Trainer, cancel func()) { return h.subscribe(h.prior) }

func (h *Hub) subscribe(from int) (tr Trainer, cancel func()) {
	s := &subscriber{Trainer: h.tr, out: make(chan []Event), wake: make(chan struct{}, 1), stop: make(chan struct{})}
	h.mu.Lock()
	if len(h.history) > from {
		s.push(append([]Event(nil), h.history[from:]...))
	}
	if h.closed {
		s.finish()
	} else {
		h.subs[s] = struct{}{}
	}
	h.mu.Unlock()
	go s.run()
	var once sync.Once
	return s, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
			close(s.stop)
		})
	}
}

// History returns a copy of every event seen so far.
func (h *Hub) History() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Event(nil), h.history...)
}

type subscriber struct {
	Trainer
	mu    sync.Mutex
	queue []Event
	done  bool
	out   chan []Event
	wake  chan struct{}
	stop  chan struct{}
}

func (s *subscriber) Events() <-chan []Event { return s.out }

func (s *subscriber) push(batch []Event) {
	s.mu.Lock()
	s.queue = append(s.queue, batch...)
	s.mu.Unlock()
	s.signal()
}

func (s *subscriber) finish() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	s.signal()
}

func (s *subscriber) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriber) run() {
	defer close(s.out)
	for {
		s.mu.Lock()
		batch, done := s.queue, s.done
		s.queue = nil
		s.mu.Unlock()
		if len(batch) > 0 {
			select {
			case s.out <- batch:
			case <-s.stop:
				return
			}
			continue
		}
		if done {
			return
		}
		select {
		case <-s.wake:
		case <-s.stop:
			return
		}
	}
}
