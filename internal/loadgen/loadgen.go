// Package loadgen drives a fixed amount of work from concurrent workers and
// measures each call: the load of the benchmarks that compare registra's
// issuance with its library rate and with step-ca (adapters/http,
// scripts/stepca-bench).
package loadgen

import (
	"slices"
	"sync"
	"time"
)

// Run calls do(i) for every i in [0, n) from c workers, each taking the next
// i when done with its last, and returns each call's latency (by i) and the
// wall time of the whole. The first error stops its worker, the others go
// on, and it is returned; the latencies of calls not made are zero.
func Run(n, c int, do func(i int) error) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	errs := make(chan error, c)
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Go(func() {
			for i := range next {
				t0 := time.Now()
				if err := do(i); err != nil {
					errs <- err
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	close(errs)
	return lat, wall, <-errs
}

// Percentile returns the p quantile (0 to 1) of lat, the nearest rank at
// or above it; lat is not changed. It is zero for no latencies.
func Percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}
