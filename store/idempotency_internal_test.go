package store

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIdempotencyWindow checks that a key replays within the window, that
// later batches with keys drop it once the window has passed, that the same
// batch then applies anew, and that keys survive a snapshot with their time.
func TestIdempotencyWindow(t *testing.T) {
	t.Parallel()
	st, err := newState()
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	index := uint64(0)
	apply := func(at time.Time, key string, cmds ...Command) *Result {
		t.Helper()
		index++
		res, err := st.applyEntry(index, &entry{At: at, Org: "org", IdempotencyKey: key, Commands: cmds})
		require.NoError(t, err)
		return res
	}
	keys := func() int {
		n, err := st.db.Txn(false).Len(tableIdempotency, indexID)
		require.NoError(t, err)
		return n
	}
	audit := func(i int) Command {
		return AppendAudit{Event: AuditEvent{OrgID: "org", At: t0, ActorID: "op", Action: "test", Subject: fmt.Sprint(i)}}
	}

	first := apply(t0, "k0", audit(0))
	assert.False(t, first.Replayed)
	again := apply(t0.Add(23*time.Hour), "k0", audit(0))
	assert.True(t, again.Replayed, "within the window")
	assert.Equal(t, first.Outputs, again.Outputs)

	for i := 1; i <= 3; i++ {
		apply(t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("k%d", i), audit(i))
	}
	require.Equal(t, 4, keys())

	// One batch a day later drops up to idempotencyPrune expired keys.
	apply(t0.Add(IdempotencyWindow+time.Hour), "late", audit(9))
	assert.Equal(t, 1, keys(), "the four expired keys dropped, the new one kept")

	replay := apply(t0.Add(IdempotencyWindow+2*time.Hour), "k0", audit(0))
	assert.False(t, replay.Replayed, "an expired key applies anew")

	var buf bytes.Buffer
	require.NoError(t, writeSnapshot(&buf, st.db.Txn(false), index))
	got, _, err := readSnapshot(&buf)
	require.NoError(t, err)
	raw, err := got.db.Txn(false).First(tableIdempotency, indexID, newKey().str("org").str("late"))
	require.NoError(t, err)
	require.NotNil(t, raw)
	assert.Equal(t, t0.Add(IdempotencyWindow+time.Hour), raw.(*idempotencyRecord).At)
}
