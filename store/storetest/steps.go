package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
)

// testSteps: an order keeps one recognition step of each kind, replaced by
// the next of that kind; a step names an order and an operator of its own
// organisation; expired steps are listed earliest first; deleting drops
// one kind, or every step of the order, and is idempotent.
func testSteps(t *testing.T, f *Fixture) {
	ctx := context.Background()
	org, op := f.Org()
	other, otherOp := f.Org()
	h := f.Holder("Sara", "Marino", "MRNSRA85C41H501X")
	o := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	o2 := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	at := time.Date(2026, 5, 4, 10, 0, 0, 123456789, time.FixedZone("CEST", 7200))
	form := store.StepRecord{OrderID: o.ID, Kind: "form_signature", OrgID: org, OperatorID: op,
		Blob: BlobHash("form"), CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	video := store.StepRecord{OrderID: o.ID, Kind: "video_session", OrgID: org,
		Blob: BlobHash("video"), CreatedAt: at, ExpiresAt: at.Add(30 * time.Minute)}
	later := store.StepRecord{OrderID: o2.ID, Kind: "form_signature", OrgID: org, OperatorID: op,
		Blob: BlobHash("form 2"), CreatedAt: at, ExpiresAt: at.Add(2 * time.Hour)}
	f.Apply(store.PutStep{Step: form}, store.PutStep{Step: video}, store.PutStep{Step: later})

	norm := func(s store.StepRecord) store.StepRecord {
		s.CreatedAt, s.ExpiresAt = store.NormalizeTime(s.CreatedAt), store.NormalizeTime(s.ExpiresAt)
		return s
	}
	snap := f.Snap()
	steps, err := snap.Steps(o.ID)
	require.NoError(t, err)
	assert.Equal(t, []store.StepRecord{norm(form), norm(video)}, steps, "sorted by kind")
	expired, err := snap.ExpiredSteps(at.Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Equal(t, []store.StepRecord{norm(video), norm(form)}, expired, "earliest expiry first")
	_, err = snap.ExpiredSteps(at, 0)
	assert.ErrorIs(t, err, store.ErrInvalidInput)
	snap.Close()

	t.Run("replaced by kind", func(t *testing.T) {
		again := form
		again.Blob, again.ExpiresAt = BlobHash("form again"), at.Add(3*time.Hour)
		f.Apply(store.PutStep{Step: again})
		snap := f.Snap()
		defer snap.Close()
		steps, err := snap.Steps(o.ID)
		require.NoError(t, err)
		assert.Equal(t, []store.StepRecord{norm(again), norm(video)}, steps)
		expired, err := snap.ExpiredSteps(at.Add(time.Hour), 10)
		require.NoError(t, err)
		assert.Equal(t, []store.StepRecord{norm(video)}, expired, "the replaced step's expiry is gone from the index")
	})

	t.Run("own organisation only", func(t *testing.T) {
		for name, s := range map[string]store.StepRecord{
			"order of another organisation":    {OrderID: o.ID, Kind: "x", OrgID: other, Blob: BlobHash("x"), CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
			"operator of another organisation": {OrderID: o.ID, Kind: "x", OrgID: org, OperatorID: otherOp, Blob: BlobHash("x"), CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
			"no such order":                    {OrderID: "ghost", Kind: "x", OrgID: org, Blob: BlobHash("x"), CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.PutStep{Step: s}}})
				IsConflict(t, err)
			})
		}
		snap := f.Snap()
		defer snap.Close()
		steps, err := snap.Steps(o.ID)
		require.NoError(t, err)
		assert.Len(t, steps, 2, "nothing written")
	})

	t.Run("bad input", func(t *testing.T) {
		for field, s := range map[string]store.StepRecord{
			"step.kind":       {OrderID: o.ID, OrgID: org, Blob: BlobHash("x"), CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
			"step.blob":       {OrderID: o.ID, Kind: "x", OrgID: org, Blob: "not a hash", CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
			"step.expires_at": {OrderID: o.ID, Kind: "x", OrgID: org, Blob: BlobHash("x"), CreatedAt: at, ExpiresAt: at},
		} {
			_, err := f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.PutStep{Step: s}}})
			require.ErrorIs(t, err, store.ErrInvalidInput, field)
			assert.ErrorContains(t, err, field)
		}
	})

	f.Apply(store.DeleteSteps{OrderID: o.ID, Kind: "video_session"}, store.DeleteSteps{OrderID: o.ID, Kind: "video"})
	snap = f.Snap()
	steps, err = snap.Steps(o.ID)
	require.NoError(t, err)
	require.Len(t, steps, 1, "one kind deleted")
	assert.Equal(t, "form_signature", steps[0].Kind)
	snap.Close()

	f.Apply(store.DeleteSteps{OrderID: o.ID}, store.DeleteSteps{OrderID: o.ID}, store.DeleteSteps{OrderID: "never"})
	snap = f.Snap()
	defer snap.Close()
	steps, err = snap.Steps(o.ID)
	require.NoError(t, err)
	assert.Empty(t, steps)
	steps, err = snap.Steps(o2.ID)
	require.NoError(t, err)
	assert.Equal(t, []store.StepRecord{norm(later)}, steps, "another order's steps stay")
}
