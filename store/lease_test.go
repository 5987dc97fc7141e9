package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
)

// clock is a settable clock for Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestLeaseExpiryAndFencing runs a lease through expiry on the store's
// clock: a paused holder whose lease expired and passed to another holder
// can neither renew nor write under its old epoch.
func TestLeaseExpiryAndFencing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	n, err := store.Open(ctx, store.Config{Dir: t.TempDir(), Now: clk.Now})
	require.NoError(t, err)
	defer func() { require.NoError(t, n.Close()) }()
	scope := store.CRLScope{Issuer: "ca-1"}
	reserve := func(fence *store.LeaseToken) error {
		_, err := n.Apply(ctx, &store.Batch{Fence: fence, Commands: []store.Command{store.ReserveCRLNumber{Scope: scope}}})
		return err
	}

	a, exp, err := n.Leases().Acquire(ctx, "crl-ca-1", "node-a", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, clk.Now().Add(time.Minute), exp)
	_, _, err = n.Leases().Acquire(ctx, "crl-ca-1", "node-b", time.Minute)
	require.ErrorIs(t, err, store.ErrConflict, "held until it expires")

	clk.Advance(59 * time.Second)
	require.NoError(t, reserve(&a), "still held one second before expiry")
	clk.Advance(time.Second)
	require.ErrorIs(t, reserve(&a), store.ErrLeaseLost, "expired at its deadline, even with no new holder")

	b, _, err := n.Leases().Acquire(ctx, "crl-ca-1", "node-b", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, a.Epoch+1, b.Epoch)
	require.NoError(t, reserve(&b))
	_, err = n.Leases().Renew(ctx, a, time.Minute)
	require.ErrorIs(t, err, store.ErrLeaseLost)
	require.NoError(t, n.Leases().Release(ctx, a), "releasing a lost lease is a no-op")
	require.NoError(t, reserve(&b), "and leaves the new holder alone")

	s, err := n.Snapshot(ctx)
	require.NoError(t, err)
	defer s.Close()
	l, err := s.Lease("crl-ca-1")
	require.NoError(t, err)
	assert.Equal(t, "node-b", l.Holder)
	crl, err := s.CRL(scope)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), crl.Reserved, "only the writes under a live lease applied")
}
