package registra_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/crl/crltest"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// fetchCRL gets a CRL from the platform's handler and verifies it.
func fetchCRL(t *testing.T, env *testEnv, path string) *x509.RevocationList {
	t.Helper()
	rec := httptest.NewRecorder()
	env.P.CRLHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	require.Equal(t, http.StatusOK, rec.Code, path)
	assert.Equal(t, "application/pkix-crl", rec.Header().Get("Content-Type"))
	rl, err := x509.ParseRevocationList(rec.Body.Bytes())
	require.NoError(t, err)
	require.NoError(t, rl.CheckSignatureFrom(env.P.Hierarchy().Issuing()))
	return rl
}

func entryOf(rl *x509.RevocationList, serial *big.Int) *x509.RevocationListEntry {
	for i, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(serial) == 0 {
			return &rl.RevokedCertificateEntries[i]
		}
	}
	return nil
}

// askOCSP asks the platform's responder about serial.
func askOCSP(t *testing.T, env *testEnv, serial *big.Int) *ocsp.Response {
	t.Helper()
	h := env.P.Hierarchy()
	req := crltest.OCSPRequest(t, serial, h.Issuing(), crypto.SHA256, nil)
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(req))
	r.Header.Set("Content-Type", "application/ocsp-request")
	env.P.OCSPHandler().ServeHTTP(rec, r)
	require.Equal(t, http.StatusOK, rec.Code)
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	resp, err := ocsp.ParseResponseForCert(body, nil, h.Issuing())
	require.NoError(t, err)
	return resp
}

// TestPublication: the platform publishes its status changes on CRLs served
// by CRLHandler and answers OCSP from the store: a suspension is a hold at
// once on OCSP and on the next delta CRL, a reactivation removes it, and a
// key compromise is on a CRL within its one-hour deadline, with a receipt.
func TestPublication(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	rao := env.User(orgA, access.RoleRAO)
	_, pr := env.Issued(t, orgA, 1)
	serial := pr.Certificates[0].SerialNumber

	pass, err := env.P.PublishCRLs(ctx, env.Now())
	require.NoError(t, err)
	require.NotEmpty(t, pass.Published, "a first full CRL")
	full := fetchCRL(t, env, registra.PathCRL)
	assert.Empty(t, full.RevokedCertificateEntries)
	assert.Equal(t, ocsp.Good, askOCSP(t, env, serial).Status)

	_, err = env.P.Suspend(ctx, rao.Actor, pr.ID, registra.SuspendInput{End: env.Now().AddDate(0, 0, 5), Contract: []byte("c"),
		Publication: lifecycle.PublicationImmediate})
	require.NoError(t, err)
	resp := askOCSP(t, env, serial)
	assert.Equal(t, ocsp.Revoked, resp.Status, "OCSP says held at once")
	assert.Equal(t, ocsp.CertificateHold, resp.RevocationReason)

	env.Advance(10 * time.Second) // past the coalescing window
	_, err = env.P.PublishCRLs(ctx, env.Now())
	require.NoError(t, err)
	delta := fetchCRL(t, env, registra.PathDeltaCRL)
	e := entryOf(delta, serial)
	require.NotNil(t, e, "the hold is on the delta CRL")
	assert.Equal(t, int(crl.CertificateHold), e.ReasonCode)

	_, err = env.P.Reactivate(ctx, rao.Actor, pr.ID, lifecycle.PublicationImmediate)
	require.NoError(t, err)
	assert.Equal(t, ocsp.Good, askOCSP(t, env, serial).Status)
	env.Advance(10 * time.Second)
	_, err = env.P.PublishCRLs(ctx, env.Now())
	require.NoError(t, err)
	e = entryOf(fetchCRL(t, env, registra.PathDeltaCRL), serial)
	require.NotNil(t, e)
	assert.Equal(t, int(crl.RemoveFromCRL), e.ReasonCode, "the delta CRL lists removeFromCRL")

	requested := env.Now()
	_, err = env.P.Revoke(ctx, rao.Actor, pr.ID, registra.RevokeInput{Requester: lifecycle.RequesterOwner,
		Motivation: lifecycle.MotivationKeyCompromise})
	require.NoError(t, err)
	env.Advance(10 * time.Second)
	_, err = env.P.PublishCRLs(ctx, env.Now())
	require.NoError(t, err)
	e = entryOf(fetchCRL(t, env, registra.PathDeltaCRL), serial)
	require.NotNil(t, e)
	assert.Equal(t, int(crl.KeyCompromise), e.ReasonCode)
	resp = askOCSP(t, env, serial)
	assert.Equal(t, ocsp.Revoked, resp.Status)
	assert.Equal(t, ocsp.KeyCompromise, resp.RevocationReason)

	// Every change has its receipt, on time.
	snap, err := env.P.Store().Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()
	changes, err := snap.StatusChanges(pr.OrderID)
	require.NoError(t, err)
	for _, ch := range changes {
		if ch.Mode == store.PublicationNone {
			continue
		}
		assert.False(t, ch.PublishedAt.IsZero(), "%s → %s published", ch.From, ch.To)
		assert.False(t, ch.PublishedAt.After(ch.Deadline), "%s → %s on time", ch.From, ch.To)
		assert.NotZero(t, ch.CRLNumber)
	}
	due, err := snap.DueStatusChanges(requested.Add(48*time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "nothing left pending")
	rep, err := env.P.CRLReport(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Immediate.Count)
	assert.Zero(t, rep.Immediate.Misses)

	// The next full CRL keeps the revocation.
	env.Advance(7 * time.Hour)
	_, err = env.P.PublishCRLs(ctx, env.Now())
	require.NoError(t, err)
	full2 := fetchCRL(t, env, registra.PathCRL)
	assert.Positive(t, full2.Number.Cmp(full.Number))
	require.NotNil(t, entryOf(full2, serial))
}

// TestRunPublishesBeforeDeadline: Platform.Run publishes an immediate
// revocation within its hour, in virtual time, with nobody calling
// PublishCRLs.
func TestRunPublishesBeforeDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := virtualEnv(t)
		runScheduler(t, env)
		ctx := context.Background()
		rao := env.User(orgA, access.RoleRAO)
		o, pr := env.Issued(t, orgA, 1)
		_, err := env.P.Revoke(ctx, rao.Actor, pr.ID, registra.RevokeInput{Requester: lifecycle.RequesterOwner,
			Motivation: lifecycle.MotivationKeyCompromise})
		require.NoError(t, err)
		time.Sleep(time.Minute)
		synctest.Wait()
		// Changes of one virtual instant have equal times: find the
		// revocation by its status.
		var last store.StatusChange
		for _, ch := range history(t, env, o.ID) {
			if ch.To == store.StatusRevoked {
				last = ch
			}
		}
		require.Equal(t, store.StatusRevoked, last.To)
		require.False(t, last.PublishedAt.IsZero(), "published")
		assert.Less(t, last.PublishedAt.Sub(last.At), time.Minute)
		e := entryOf(fetchCRL(t, env, registra.PathDeltaCRL), pr.Certificates[0].SerialNumber)
		require.NotNil(t, e)
	})
}
