package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
)

// testBatchBlobs: blobs stored with a batch (PutBlobs) are read back under
// their hash once it commits, beside the references it commits to them;
// content stored twice, in one batch or in two, reads back the same; a
// batch refused on a precondition stores none of its blobs.
func testBatchBlobs(t *testing.T, f *Fixture) {
	ctx := context.Background()
	org, op := f.Org()
	h := f.Holder("Luca", "Ricci", "RCCLCU80A01H501W")
	o := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	cert, env := []byte("a certificate "+o.ID), []byte("an envelope "+o.ID)
	f.Apply(store.PutBlobs{Blobs: [][]byte{cert, env, cert}},
		store.PutEnvelope{Envelope: store.EnvelopeRef{ID: f.ID("env"), OrgID: org, OrderID: o.ID, Format: "p7m",
			Blob: store.BlobHash(env), CreatedAt: at}})
	for _, want := range [][]byte{cert, env} {
		got, err := f.S.Blobs().Get(ctx, store.BlobHash(want))
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	snap := f.Snap()
	envs, err := snap.OrderEnvelopes(o.ID)
	snap.Close()
	require.NoError(t, err)
	require.Len(t, envs, 1)
	assert.Equal(t, store.BlobHash(env), envs[0].Blob)

	// The same content again, with new content beside it.
	again := []byte("another blob " + o.ID)
	f.Apply(store.PutBlobs{Blobs: [][]byte{env}}, store.PutBlobs{Blobs: [][]byte{again}})
	for _, want := range [][]byte{env, again} {
		got, err := f.S.Blobs().Get(ctx, store.BlobHash(want))
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}

	refused := []byte("never committed " + o.ID)
	_, err = f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.PutBlobs{Blobs: [][]byte{refused}},
		store.PutOrganisation{Organisation: store.Organisation{ID: org, Name: "Taken"}}}})
	IsConflict(t, err)
	has, err := f.S.Blobs().Has(ctx, store.BlobHash(refused))
	require.NoError(t, err)
	assert.False(t, has, "a refused batch stores no blob")
}
