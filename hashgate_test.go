package registra

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHashGateBound: no more hashes run at once than the gate has slots,
// however many callers arrive together, and every one of them runs.
func TestHashGateBound(t *testing.T) {
	for _, slots := range []int{1, 2, 3} {
		g := newHashGate(slots)
		var running, peak atomic.Int64
		var wg sync.WaitGroup
		for range slots * HashQueuePerSlot {
			wg.Go(func() {
				require.NoError(t, g.Enter(t.Context()))
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				runtime.Gosched()
				running.Add(-1)
				g.Leave()
			})
		}
		wg.Wait()
		assert.LessOrEqual(t, peak.Load(), int64(slots), "slots %d", slots)
		assert.Zero(t, g.waiting.Load())
		assert.Empty(t, g.slots)
	}
	assert.Equal(t, runtime.GOMAXPROCS(0), cap(newHashGate(0).slots), "zero means GOMAXPROCS")
}

// TestHashGateQueue: callers wait in turn while the slots are taken; past
// HashQueuePerSlot waiting per slot the next is refused at once with
// ErrBusy and counted; a caller whose context ends leaves the queue.
func TestHashGateQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newHashGate(1)
		m := &Platform{hashes: g}
		require.NoError(t, g.Enter(t.Context()))

		ctx, cancel := context.WithCancel(t.Context())
		entered := make(chan error, HashQueuePerSlot)
		for i := range HashQueuePerSlot {
			c := t.Context()
			if i == 0 {
				c = ctx
			}
			go func() { entered <- g.Enter(c) }()
		}
		synctest.Wait()
		assert.EqualValues(t, HashQueuePerSlot, g.waiting.Load())

		err := g.Enter(t.Context())
		require.ErrorIs(t, err, ErrBusy)
		assert.Contains(t, err.Error(), "1 password and code hashes are running and 32 password hashes waiting")
		require.NoError(t, testutil.CollectAndCompare(m.HashMetrics(), strings.NewReader(`
# HELP registra_slow_hashes_refused_total Password and code hashes refused because too many were waiting.
# TYPE registra_slow_hashes_refused_total counter
registra_slow_hashes_refused_total 1
# HELP registra_slow_hashes_running Password and code hashes running.
# TYPE registra_slow_hashes_running gauge
registra_slow_hashes_running 1
# HELP registra_slow_hashes_waiting Password and code hashes waiting for a slot.
# TYPE registra_slow_hashes_waiting gauge
registra_slow_hashes_waiting 32
`)))

		cancel()
		synctest.Wait()
		require.ErrorIs(t, <-entered, context.Canceled)
		assert.EqualValues(t, HashQueuePerSlot-1, g.waiting.Load())
		assert.EqualValues(t, HashQueuePerSlot-1, g.bounded.Load())

		// The slot passes to the waiters one at a time.
		for range HashQueuePerSlot - 1 {
			g.Leave()
			synctest.Wait()
			require.NoError(t, <-entered)
		}
		g.Leave()
		assert.Zero(t, g.waiting.Load())
		assert.Empty(t, g.slots)

		// The vault's hashes wait however long the queue of password
		// hashes is, and do not count towards its bound: however many
		// wait, a password hash still queues.
		require.NoError(t, g.Enter(t.Context()))
		g.bounded.Add(g.maxWait)
		vault := make(chan error, 2*HashQueuePerSlot)
		for range 2 * HashQueuePerSlot {
			go func() { vault <- vaultGate{g}.Enter(t.Context()) }()
		}
		synctest.Wait()
		assert.EqualValues(t, 2*HashQueuePerSlot, g.waiting.Load())
		require.ErrorIs(t, g.Enter(t.Context()), ErrBusy)
		g.bounded.Add(-g.maxWait)
		login := make(chan error, 1)
		go func() { login <- g.Enter(t.Context()) }()
		synctest.Wait()
		assert.EqualValues(t, 2*HashQueuePerSlot+1, g.waiting.Load())
		for range 2*HashQueuePerSlot + 1 {
			g.Leave()
			synctest.Wait()
		}
		for range 2 * HashQueuePerSlot {
			require.NoError(t, <-vault)
		}
		require.NoError(t, <-login)
		g.Leave()
		assert.Zero(t, g.waiting.Load())
		assert.Zero(t, g.bounded.Load())

		// A context already ended does not take a free slot.
		done, stop := context.WithCancel(t.Context())
		stop()
		require.ErrorIs(t, g.Enter(done), context.Canceled)
		assert.Empty(t, g.slots)
	})
}
