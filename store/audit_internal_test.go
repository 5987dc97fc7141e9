package store

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sealState returns a state with n appended, unsealed audit events.
func sealState(t *testing.T, n int) *state {
	t.Helper()
	st, err := newState()
	require.NoError(t, err)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		_, err := st.applyEntry(uint64(i+1), &entry{At: at, Commands: []Command{
			AppendAudit{Event: AuditEvent{OrgID: "org-1", At: at.Add(time.Duration(i) * time.Second), Action: "order.create"}},
		}})
		require.NoError(t, err)
	}
	return st
}

// plan returns the seal the proposer would send for st.
func plan(t *testing.T, st *state, max uint32) SealAudit {
	t.Helper()
	cmds := []Command{SealAudit{Max: max}}
	require.NoError(t, planSeals(st.db.Txn(false), cmds))
	return cmds[0].(SealAudit)
}

func auditMetaOf(t *testing.T, st *state, name string) *metaRecord {
	t.Helper()
	m, err := first[metaRecord](st.db.Txn(false), tableMeta, indexID, newKey().str(name))
	require.NoError(t, err)
	return m
}

// TestSealAuditRangeConflict: a seal whose range no longer starts at the
// first unsealed event, or ends past the last appended one, is refused with
// ErrConflict and changes nothing.
func TestSealAuditRangeConflict(t *testing.T) {
	t.Parallel()
	st := sealState(t, 4)
	stale := plan(t, st, 2)
	require.Equal(t, uint64(1), stale.From)
	require.Len(t, stale.Hashes, 2)
	_, err := st.applyEntry(10, &entry{Commands: []Command{plan(t, st, 1)}})
	require.NoError(t, err)

	past := plan(t, st, 10)
	past.Hashes = append(past.Hashes, bytes.Repeat([]byte{7}, 32))
	for name, c := range map[string]SealAudit{"stale start": stale, "past the last event": past} {
		before := *auditMetaOf(t, st, metaAudit)
		_, err := st.applyEntry(11, &entry{Commands: []Command{c}})
		require.ErrorIs(t, err, ErrConflict, name)
		assert.Equal(t, before, *auditMetaOf(t, st, metaAudit), name)
		assert.Nil(t, auditMetaOf(t, st, metaAuditBreak), name)
	}
}

// TestSealAuditRecordsBreak: a seal whose recorded chain differs from the
// events it covers (as when an event was edited in the log) keeps the
// recorded hashes, records the first differing event, and verification
// names it; later seals chain on.
func TestSealAuditRecordsBreak(t *testing.T) {
	t.Parallel()
	st := sealState(t, 5)
	c := plan(t, st, 10)
	require.Len(t, c.Hashes, 5)
	c.Hashes[1] = bytes.Repeat([]byte{0xee}, 32)
	c.Hashes[3] = bytes.Repeat([]byte{0xdd}, 32)
	r, err := st.applyEntry(10, &entry{Commands: []Command{c}})
	require.NoError(t, err)
	assert.Equal(t, uint64(5), r.Outputs[0].Number)
	assert.Equal(t, uint64(2), auditMetaOf(t, st, metaAuditBreak).Value)
	assert.Equal(t, c.Hashes[4], auditMetaOf(t, st, metaAudit).Hash)

	_, err = st.applyEntry(11, &entry{Commands: []Command{AppendAudit{Event: AuditEvent{At: time.Unix(0, 0).UTC(), Action: "late"}}}})
	require.NoError(t, err)
	_, err = st.applyEntry(12, &entry{Commands: []Command{plan(t, st, 10)}})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), auditMetaOf(t, st, metaAuditBreak).Value, "the first break stays")

	err = (&view{txn: st.db.Txn(false)}).VerifyAudit()
	ce, ok := errors.AsType[*AuditChainError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, uint64(2), ce.Seq)
	assert.ErrorIs(t, err, ErrCorrupt)
}
