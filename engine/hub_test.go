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
