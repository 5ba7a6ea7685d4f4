package train

import (
	"math"
	"testing"
)

func TestMarginSchedule(t *testing.T) {
	cases := []struct{ e, want float64 }{{0, 0}, {1.9, 0}, {2, 0}, {3.5, 0.2}, {5, 0.4}, {9, 0.4}}
	for _, c := range cases {
		if got := marginAt(0.4, c.e, 2, 3); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("marginAt(e=%v) = %v, want %v", c.e, got, c.want)
		}
	}
	if got := marginAt(0.4, 0, 0, 0); got != 0.4 {
		t.Errorf("no warm-up, no ramp: got %v, want 0.4", got)
	}
}

func TestLRSchedule(t *testing.T) {
	if got := lrAt(0.1, "cosine", 1, 10, 0); math.Abs(got) > 1e-12 {
		t.Errorf("cosine ends at %v, want 0", got)
	}
	if got := lrAt(0.1, "cosine", 0.55, 10, 1); math.Abs(got-0.05) > 1e-12 {
		t.Errorf("cosine midway after warm-up = %v, want 0.05", got)
	}
	if got, next := lrAt(0.1, "cosine", 0, 10, 1), lrAt(0.1, "cosine", 0.05, 10, 1); !(got > 0 && got < next && next < 0.1) {
		t.Errorf("warm-up should rise from above 0: %v then %v", got, next)
	}
	for _, c := range []struct{ t, want float64 }{{0.5, 0.1}, {0.6, 0.01}, {0.9, 0.001}} {
		if got := lrAt(0.1, "step", c.t, 10, 0); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("step at %v = %v, want %v", c.t, got, c.want)
		}
	}
}
