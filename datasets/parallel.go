package datasets

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// ParallelFor runs fn(worker, i) for every i in [0,n) on up to workers
// goroutines (workers < 1 means GOMAXPROCS). Items are handed out from a
// shared counter for load balance; callers make each item's result depend
// only on i (never on worker, which only selects scratch buffers), so the
// output is the same whatever the worker count.
func ParallelFor(n, workers int, fn func(worker, i int)) {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(w, i)
			}
		}()
	}
	wg.Wait()
}
