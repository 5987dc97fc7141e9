package registra_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/store"
)

// shortLived is a catalogue product whose certificates live two days, so
// that expiry comes within a short span of virtual time.
const shortLived = "short_lived"

// virtualEnv opens a platform inside a synctest bubble: the real clock
// (virtual there), a slow Raft heartbeat so that the single node does not
// wake every few milliseconds of virtual time, and the short-lived product.
func virtualEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	profile := ca.QualifiedNaturalPerson
	profile.DefaultValidity = 48 * time.Hour
	remote := envelope.RemoteSignature
	cat := append(registra.DefaultCatalogue(), registra.ProductType{ID: shortLived, Name: "Two-day signature",
		KeyOrigin: registra.KeyRemote, Profile: profile, Codes: &remote,
		Methods: []registra.MethodRule{{Method: recognition.MethodOffline}}})
	opts = append([]envOption{realClock(), withConfig(func(c *registra.Config) {
		c.Store.HeartbeatTimeout = 10 * time.Second
		c.Catalogue = cat
		c.SchedulerInterval = 6 * time.Hour
	})}, opts...)
	return openEnv(t, opts...)
}

// runScheduler starts Platform.Run and stops it when the test ends.
func runScheduler(t *testing.T, env *testEnv) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.P.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
}

func history(t *testing.T, env *testEnv, orderID string) []store.StatusChange {
	t.Helper()
	snap, err := env.P.Store().Snapshot(context.Background())
	require.NoError(t, err)
	defer snap.Close()
	ch, err := snap.StatusChanges(orderID)
	require.NoError(t, err)
	return ch
}

// TestSuspensionEndsByItself: a suspended product becomes active again by
// itself at its end date (acceptance 3 of issue #5), through Platform.Run
// in virtual time, and the release is pending publication within the normal
// SLA.
func TestSuspensionEndsByItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := virtualEnv(t)
		runScheduler(t, env)
		ctx := context.Background()
		rao := env.User(orgA, access.RoleRAO)
		o, pr := env.Issued(t, orgA, 1)
		end := time.Now().Add(3 * time.Hour)
		pr, err := env.P.Suspend(ctx, rao.Actor, pr.ID, registra.SuspendInput{End: end, Notes: "holder request", Contract: []byte("signed request")})
		require.NoError(t, err)
		require.Equal(t, lifecycle.StatusSuspended, pr.Status)

		time.Sleep(3*time.Hour - time.Minute)
		synctest.Wait()
		pr, err = env.P.GetProduct(ctx, rao.Actor, pr.ID)
		require.NoError(t, err)
		assert.Equal(t, lifecycle.StatusSuspended, pr.Status, "a minute before the end date")

		time.Sleep(2 * time.Minute)
		synctest.Wait()
		pr, err = env.P.GetProduct(ctx, rao.Actor, pr.ID)
		require.NoError(t, err)
		assert.Equal(t, lifecycle.StatusActive, pr.Status, "a minute after the end date")

		h := history(t, env, o.ID)
		last := h[len(h)-1]
		assert.Equal(t, store.StatusSuspended, last.From)
		assert.Equal(t, store.StatusActive, last.To)
		assert.Equal(t, "system", last.ActorID)
		assert.False(t, last.At.Before(end))
		assert.WithinDuration(t, end, last.At, time.Second, "released at the end date")
		assert.Equal(t, int32(lifecycle.ReasonRemoveFromCRL), last.ReasonCode)
		assert.Equal(t, store.PublicationNormal, last.Mode)
		assert.Equal(t, last.At.Add(lifecycle.DefaultNormalPublication), last.Deadline)
	})
}

// TestHoldEndRevokePolicy: with the revoke policy a suspension that reaches
// its end date becomes a revocation dated back to the suspension's start.
func TestHoldEndRevokePolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := virtualEnv(t, withConfig(func(c *registra.Config) { c.Lifecycle.HoldEnd = lifecycle.HoldEndRevoke }))
		runScheduler(t, env)
		ctx := context.Background()
		rao := env.User(orgA, access.RoleRAO)
		o, pr := env.Issued(t, orgA, 1)
		start := time.Now()
		_, err := env.P.Suspend(ctx, rao.Actor, pr.ID, registra.SuspendInput{End: start.Add(time.Hour), Contract: []byte("c")})
		require.NoError(t, err)
		time.Sleep(time.Hour + time.Minute)
		synctest.Wait()
		pr, err = env.P.GetProduct(ctx, rao.Actor, pr.ID)
		require.NoError(t, err)
		assert.Equal(t, lifecycle.StatusRevoked, pr.Status)
		require.NotNil(t, pr.Revocation)
		assert.Equal(t, store.NormalizeTime(start), pr.Revocation.RevocationTime, "dated back to the suspension's start")
		h := history(t, env, o.ID)
		assert.Equal(t, store.StatusRevoked, h[len(h)-1].To)
	})
}

// TestExpiryAtNotAfter: a product expires by itself at notAfter, not
// before (RFC 5280 §4.1.2.5 counts notAfter as valid).
func TestExpiryAtNotAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := virtualEnv(t)
		runScheduler(t, env)
		ctx := context.Background()
		rao := env.User(orgA, access.RoleRAO)
		in := env.Order(1)
		in.ProductType = shortLived
		o, pr := env.IssuedInput(t, orgA, in)
		notAfter := pr.Certificates[0].NotAfter
		require.WithinDuration(t, time.Now().Add(48*time.Hour), notAfter, time.Minute)

		time.Sleep(time.Until(notAfter))
		synctest.Wait()
		pr, err := env.P.GetProduct(ctx, rao.Actor, pr.ID)
		require.NoError(t, err)
		assert.Equal(t, lifecycle.StatusActive, pr.Status, "valid through notAfter")

		time.Sleep(time.Second)
		synctest.Wait()
		pr, err = env.P.GetProduct(ctx, rao.Actor, pr.ID)
		require.NoError(t, err)
		assert.Equal(t, lifecycle.StatusExpired, pr.Status)
		h := history(t, env, o.ID)
		last := h[len(h)-1]
		assert.Equal(t, store.StatusExpired, last.To)
		assert.True(t, last.At.After(notAfter))
		assert.Zero(t, last.Deadline, "expiry changes no revocation status")

		// Nothing acts on an expired product any more.
		_, err = env.P.Suspend(ctx, rao.Actor, pr.ID, registra.SuspendInput{End: time.Now().Add(time.Hour), Contract: []byte("c")})
		assert.ErrorIs(t, err, registra.ErrTransition)
	})
}

// TestPendingDeadlines: every change of revocation status is pending
// publication with the deadline of its mode — normal 24 h, immediate 1 h
// (configurable) — and the store's scheduler query returns it when due.
func TestPendingDeadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := virtualEnv(t, withConfig(func(c *registra.Config) {
			c.Lifecycle.NormalPublication = 12 * time.Hour
			c.Lifecycle.ImmediatePublication = 30 * time.Minute
		}))
		ctx := context.Background()
		rao := env.User(orgA, access.RoleRAO)
		o1, p1 := env.Issued(t, orgA, 1)
		o2, p2 := env.Issued(t, orgA, 2)
		o3, p3 := env.Issued(t, orgA, 3)

		t0 := store.NormalizeTime(time.Now())
		_, err := env.P.Suspend(ctx, rao.Actor, p1.ID, registra.SuspendInput{End: t0.Add(48 * time.Hour), Contract: []byte("c")})
		require.NoError(t, err)
		time.Sleep(time.Minute)
		t1 := store.NormalizeTime(time.Now())
		_, err = env.P.Reactivate(ctx, rao.Actor, p1.ID, lifecycle.PublicationImmediate)
		require.NoError(t, err)
		_, err = env.P.Revoke(ctx, rao.Actor, p2.ID, registra.RevokeInput{Requester: lifecycle.RequesterOwner,
			Motivation: lifecycle.MotivationKeyCompromise}) // always immediate
		require.NoError(t, err)
		_, err = env.P.Revoke(ctx, rao.Actor, p3.ID, registra.RevokeInput{Requester: lifecycle.RequesterOwner,
			Motivation: lifecycle.MotivationDeviceUnusable}) // normal by default
		require.NoError(t, err)
		_, err = env.P.Revoke(ctx, rao.Actor, p1.ID, registra.RevokeInput{Requester: lifecycle.RequesterOwner,
			Motivation: lifecycle.MotivationKeyCompromise, Publication: lifecycle.PublicationNormal})
		assert.ErrorIs(t, err, registra.ErrInvalidInput, "a key compromise cannot be published normally")

		cases := []struct {
			order    string
			to       store.Status
			mode     store.PublicationMode
			deadline time.Time
			reason   lifecycle.Reason
		}{
			{o1.ID, store.StatusSuspended, store.PublicationNormal, t0.Add(12 * time.Hour), lifecycle.ReasonCertificateHold},
			{o1.ID, store.StatusActive, store.PublicationImmediate, t1.Add(30 * time.Minute), lifecycle.ReasonRemoveFromCRL},
			{o2.ID, store.StatusRevoked, store.PublicationImmediate, t1.Add(30 * time.Minute), lifecycle.ReasonKeyCompromise},
			{o3.ID, store.StatusRevoked, store.PublicationNormal, t1.Add(12 * time.Hour), lifecycle.ReasonSuperseded},
		}
		for _, c := range cases {
			var found *store.StatusChange
			for _, ch := range history(t, env, c.order) {
				if ch.To == c.to && ch.Mode != store.PublicationNone {
					found = &ch
				}
			}
			require.NotNil(t, found, "%s → %s", c.order, c.to)
			assert.Equal(t, c.mode, found.Mode, "%s → %s", c.order, c.to)
			assert.Equal(t, c.deadline, found.Deadline, "%s → %s", c.order, c.to)
			assert.Equal(t, int32(c.reason), found.ReasonCode, "%s → %s", c.order, c.to)
			assert.True(t, found.PublishedAt.IsZero())
		}

		// The CRL publisher's query: the immediate changes are due within
		// half an hour, the normal ones only later.
		snap, err := env.P.Store().Snapshot(ctx)
		require.NoError(t, err)
		defer snap.Close()
		due, err := snap.DueStatusChanges(t1.Add(30*time.Minute), 100)
		require.NoError(t, err)
		assert.Len(t, due, 2)
		due, err = snap.DueStatusChanges(t1.Add(12*time.Hour), 100)
		require.NoError(t, err)
		assert.Len(t, due, 4)
	})
}
