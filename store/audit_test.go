package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
)

// TestAuditEditInLogIsFound edits the bytes of a sealed audit event inside
// the Raft log on disk (same length, so the log still reads) and reopens:
// the replay applies the edited event, then the seal, whose recorded chain
// no longer matches it, and verification names that event, also after the
// state is compacted into a snapshot and reopened.
func TestAuditEditInLogIsFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := store.Config{Dir: dir}
	n, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	appendEvents := func(from, to int) {
		for i := from; i <= to; i++ {
			_, err := n.Apply(ctx, &store.Batch{Commands: []store.Command{store.AppendAudit{Event: store.AuditEvent{
				OrgID: "org-1", At: at, ActorID: "op-1", Action: "order.revoke", Subject: fmt.Sprintf("ord-%d", i),
				Details: fmt.Sprintf(`{"amount":"needle-%d-100"}`, i)}}}})
			require.NoError(t, err)
		}
	}
	seal := func() {
		_, err := n.Apply(ctx, &store.Batch{Commands: []store.Command{store.SealAudit{Max: store.MaxSealBatch}}})
		require.NoError(t, err)
	}
	appendEvents(1, 5)
	seal()
	appendEvents(6, 8)
	seal()
	verify := func() error {
		s, err := n.Snapshot(ctx)
		require.NoError(t, err)
		defer s.Close()
		return s.VerifyAudit()
	}
	require.NoError(t, verify())
	require.NoError(t, n.Close())

	// Event 3 of the first sealed batch: 100 becomes 900 in its details.
	wals, err := filepath.Glob(filepath.Join(dir, "raft", "wal", "*.wal"))
	require.NoError(t, err)
	require.NotEmpty(t, wals)
	old, edited := []byte(`needle-3-100`), []byte(`needle-3-900`)
	found := 0
	for _, p := range wals {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		if c := bytes.Count(b, old); c > 0 {
			found += c
			require.NoError(t, os.WriteFile(p, bytes.ReplaceAll(b, old, edited), 0o600))
		}
	}
	require.Equal(t, 1, found, "the event is in the log once")

	firstBad := func() uint64 {
		err := verify()
		require.ErrorIs(t, err, store.ErrCorrupt)
		ce, ok := errors.AsType[*store.AuditChainError](err)
		require.True(t, ok, "%v", err)
		return ce.Seq
	}
	n, err = store.Open(ctx, cfg)
	require.NoError(t, err)
	s, err := n.Snapshot(ctx)
	require.NoError(t, err)
	var details string
	errStop := errors.New("stop")
	require.ErrorIs(t, s.AuditEvents(3, func(e store.AuditEvent) error { details = e.Details; return errStop }), errStop)
	s.Close()
	require.Contains(t, details, "needle-3-900", "the replay applied the edited event")
	assert.Equal(t, uint64(3), firstBad())

	// Sealing goes on; the break stays recorded through a snapshot.
	appendEvents(9, 9)
	seal()
	require.NoError(t, n.Compact(ctx))
	require.NoError(t, n.Close())
	n, err = store.Open(ctx, cfg)
	require.NoError(t, err)
	defer func() { require.NoError(t, n.Close()) }()
	assert.Equal(t, uint64(3), firstBad())
}

// TestSealAuditRetriedWithKey: a batch with a seal retried under its
// idempotency key returns the first result, although the range the store
// plans for it has moved since.
func TestSealAuditRetriedWithKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n, err := store.Open(ctx, store.Config{Dir: t.TempDir()})
	require.NoError(t, err)
	defer func() { require.NoError(t, n.Close()) }()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ev := store.AppendAudit{Event: store.AuditEvent{OrgID: "org-1", At: at, Action: "order.create"}}
	b := &store.Batch{Org: "org-1", IdempotencyKey: "seal-1", Commands: []store.Command{ev, store.SealAudit{Max: 10}}}
	first, err := n.Apply(ctx, b)
	require.NoError(t, err)
	assert.Equal(t, uint64(0), first.Outputs[1].Number, "the batch's own event is not sealed by it")
	_, err = n.Apply(ctx, &store.Batch{Commands: []store.Command{ev}})
	require.NoError(t, err)
	again, err := n.Apply(ctx, b)
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.Outputs, again.Outputs)
}
