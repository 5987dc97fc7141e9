package registra_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// TestRevocationPublishedAfterRestart: a revocation acknowledged just before
// the platform stops (no CRL carries it yet) is found in the store after a
// restart three hours later, published at once on the next pass, and its
// receipt records that it was two hours past its one-hour deadline (issue #6,
// acceptance 3).
func TestRevocationPublishedAfterRestart(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	rao := env.User(orgA, access.RoleRAO)
	o, pr := env.Issued(t, orgA, 1)
	serial := pr.Certificates[0].SerialNumber
	_, err := env.P.PublishCRLs(ctx, env.Now())
	require.NoError(t, err)

	revokedAt := env.Now()
	_, err = env.P.Revoke(ctx, rao.Actor, pr.ID, registra.RevokeInput{Requester: lifecycle.RequesterOwner,
		Motivation: lifecycle.MotivationKeyCompromise})
	require.NoError(t, err)
	require.NoError(t, env.P.Close(), "the platform stops before any CRL carries the revocation")

	env.Advance(3 * time.Hour)
	p, err := registra.Open(ctx, envConfig(env.Dir, env.Clock, env.EvidenceCA))
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() }) //nolint:errcheck // closing at the end of a test
	env.P = p

	pass, err := p.PublishCRLs(ctx, env.Now())
	require.NoError(t, err)
	require.NotEmpty(t, pass.Published, "the overdue change is published on the first pass")
	e := entryOf(fetchCRL(t, env, registra.PathDeltaCRL), serial)
	require.NotNil(t, e, "the revocation is on the delta CRL")
	assert.Equal(t, int(crl.KeyCompromise), e.ReasonCode)
	full := fetchCRL(t, env, registra.PathCRL)
	assert.Nil(t, entryOf(full, serial), "the full CRL from before the stop is served again, without it")

	snap, err := p.Store().Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()
	changes, err := snap.StatusChanges(o.ID)
	require.NoError(t, err)
	var rev *store.StatusChange
	for i := range changes {
		if changes[i].To == store.StatusRevoked {
			rev = &changes[i]
		}
	}
	require.NotNil(t, rev, "the revocation survived the restart")
	assert.Equal(t, revokedAt.Add(time.Hour), rev.Deadline, "immediate: one hour")
	require.False(t, rev.PublishedAt.IsZero(), "the receipt is written")
	assert.Equal(t, 2*time.Hour, rev.PublishedAt.Sub(rev.Deadline), "the receipt shows how late it was")
	assert.NotZero(t, rev.CRLNumber)

	rep, err := p.CRLReport(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Immediate.Misses, "the SLA report counts the miss")
	assert.Equal(t, 2*time.Hour, rep.Immediate.WorstLate)

	// The next full CRL carries it too.
	env.Advance(7 * time.Hour)
	_, err = p.PublishCRLs(ctx, env.Now())
	require.NoError(t, err)
	full2 := fetchCRL(t, env, registra.PathCRL)
	assert.Positive(t, full2.Number.Cmp(full.Number))
	assert.NotNil(t, entryOf(full2, serial))
}

// TestCRLsServedAfterRestart: a restarted platform serves the CRLs it
// published before the stop, before any new publication.
func TestCRLsServedAfterRestart(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	_, err := env.P.PublishCRLs(ctx, env.Now())
	require.NoError(t, err)
	before := fetchCRL(t, env, registra.PathCRL)
	require.NoError(t, env.P.Close())

	p, err := registra.Open(ctx, envConfig(env.Dir, env.Clock, env.EvidenceCA))
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() }) //nolint:errcheck // closing at the end of a test
	env.P = p
	after := fetchCRL(t, env, registra.PathCRL)
	assert.Equal(t, before.Raw, after.Raw)
}
