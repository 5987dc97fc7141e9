package loadgen_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/loadgen"
)

func TestRun(t *testing.T) {
	t.Parallel()
	var calls, active, peak atomic.Int64
	lat, wall, err := loadgen.Run(40, 4, func(i int) error {
		calls.Add(1)
		now := active.Add(1)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
		time.Sleep(time.Millisecond)
		active.Add(-1)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, int64(40), calls.Load())
	assert.LessOrEqual(t, peak.Load(), int64(4), "at most c calls at once")
	require.Len(t, lat, 40)
	for i, l := range lat {
		assert.GreaterOrEqual(t, l, time.Millisecond, "call %d", i)
	}
	assert.GreaterOrEqual(t, wall, 10*time.Millisecond, "40 calls of 1 ms on 4 workers")
}

func TestRunError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	var calls atomic.Int64
	_, _, err := loadgen.Run(10, 1, func(i int) error {
		calls.Add(1)
		if i == 3 {
			return boom
		}
		return nil
	})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, int64(4), calls.Load(), "the one worker stops at its error")
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	lat := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0, 1}, {0.5, 6}, {0.9, 10}, {0.99, 10}, {1, 10}} {
		assert.Equal(t, tc.want, loadgen.Percentile(lat, tc.p), "p %v", tc.p)
	}
	assert.Equal(t, time.Duration(5), lat[0], "lat is not changed")
	assert.Zero(t, loadgen.Percentile(nil, 0.5))
}
