package sessions

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestZZMin(t *testing.T) {
	_, s := newSession(t, "b")
	mustLock(t, s)
	for i := int64(1); i <= 100_000; i++ {
		e := point(i, 1/float64(i))
		for _, k := range []string{"a_loss", "b_loss", "acc_lr", "acc_hr", "margin", "theta_lr", "theta_hr", "img_per_s"} {
			e.Values[k] = float64(i) * 0.001
		}
		s.Append(e)
	}
	s.Close()
	path := filepath.Join(s.Dir, EventsFile)
	best := map[int]time.Duration{}
	for round := 0; round < 8; round++ {
		for _, w := range []int{1, 2} {
			runtime.GC()
			f, _ := os.Open(path)
			t0 := time.Now()
			readEventsParallel(f, path, w)
			d := time.Since(t0)
			f.Close()
			if best[w] == 0 || d < best[w] {
				best[w] = d
			}
		}
	}
	t.Log(best)
}
