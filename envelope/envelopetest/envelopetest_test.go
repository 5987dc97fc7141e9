package envelopetest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/envelope/envelopetest"
)

// TestIssueAndResend is the flow the platform runs, on the helpers: codes
// into the vault and into envelopes, mailed; later the same codes resealed
// under a new passphrase.
func TestIssueAndResend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v := envelopetest.NewVault(t)
	c, p := envelopetest.NewSealers(t)
	var m envelopetest.Mailer

	codes, err := envelope.RemoteSignature.Generate(nil)
	require.NoError(t, err)
	rec, err := v.Seal(ctx, "prod-1", codes, envelope.RemoteSignature.Verifiable())
	require.NoError(t, err)
	es, err := envelope.SealAll(ctx, codes, "RSSMRA85T10A562S", c, p)
	require.NoError(t, err)
	require.NoError(t, m.Enqueue(ctx, &envelope.Delivery{ID: "prod-1-1", ProductID: "prod-1", To: "a@b.it", Envelopes: es}))

	again, err := v.Open(ctx, "prod-1", rec)
	require.NoError(t, err)
	es2, err := envelope.SealAll(ctx, again, "a new passphrase", c, p)
	require.NoError(t, err)
	require.NoError(t, m.Enqueue(ctx, &envelope.Delivery{ID: "prod-1-2", ProductID: "prod-1", To: "a@b.it", Envelopes: es2}))

	ds := m.Deliveries()
	require.Len(t, ds, 2)
	got, err := c.Open(ctx, ds[1].Envelopes[0], "a new passphrase")
	require.NoError(t, err)
	assert.Equal(t, codes, got, "a resend carries the same codes")
	_, err = c.Open(ctx, ds[1].Envelopes[0], "RSSMRA85T10A562S")
	assert.ErrorIs(t, err, envelope.ErrWrongPassphrase, "the old passphrase no longer opens the new envelope")

	boom := errors.New("mail queue full")
	m.FailWith(boom)
	assert.ErrorIs(t, m.Enqueue(ctx, &envelope.Delivery{ID: "x", To: "a@b.it", Envelopes: es}), boom)
	assert.Len(t, m.Deliveries(), 2)
}
