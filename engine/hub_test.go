package engine

import (
	"testing"
	"time"
)

type chanTrainer struct {
	Trainer
	ch chan []Event
}

func (c chanTrainer) Events() <-chan []Event { return c.ch }

func drain(t *testing.T, tr Trainer) []Event {
	t.Helper()
	var out []Event
	deadline := time.After(10 * time.Second)
	for {
		select {
		case b, ok := <-tr.Events():
			if !ok {
				return out
			}
			out = append(out, b...)
		case <-deadline:
			t.Fatal("subscriber never closed")
		}
	}
}

func TestHubReplaysHistoryAndNeverWaitsForSlowSubscribers(t *testing.T) {
	src := chanTrainer{ch: make(chan []Event)}
	h := NewHub(src)
	early, _ := h.Subscribe()
	stalled, cancelStalled := h.Subscribe() // never read until the end
	for i := 0; i < 1000; i++ {
		src.ch <- []Event{{Kind: KindPoint, Step: int64(i)}}
	}
	late, _ := h.Subscribe()
	src.ch <- []Event{{Kind: KindDone, Step: 1000}}
	close(src.ch)
	for name, tr := range map[string]Trainer{"early": early, "late": late, "stalled": stalled} {
		got := drain(t, tr)
		if len(got) != 1001 {
			t.Fatalf("%s subscriber got %d events, want 1001", name, len(got))
		}
		for i, ev := range got {
			if ev.Step != int64(i) {
				t.Fatalf("%s: event %d has step %d", name, i, ev.Step)
			}
		}
	}
	cancelStalled()
}

func TestHubReplaysPriorEventsExceptToRunSubscribers(t *testing.T) {
	src := chanTrainer{ch: make(chan []Event)}
	prior := []Event{{Kind: KindPoint, Step: 1}, {Kind: KindHyper, Step: 2, Knob: "margin", Old: "0.4", New: "0.3"}}
	h := NewHub(src, prior...)
	all, _ := h.Subscribe()
	own, _ := h.SubscribeRun()
	src.ch <- []Event{{Kind: KindStart, Step: 2}}
	close(src.ch)
	if got := drain(t, all); len(got) != 3 || got[1].Knob != "margin" || got[2].Kind != KindStart {
		t.Fatalf("a viewer got %+v, want the prior events then the run's", got)
	}
	if got := drain(t, own); len(got) != 1 || got[0].Kind != KindStart {
		t.Fatalf("a run subscriber got %+v, want only the run's events", got)
	}
}
