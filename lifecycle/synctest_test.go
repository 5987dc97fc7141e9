package lifecycle_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/registra-pki/registra/lifecycle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// applied is what the scheduler below did, and when.
type applied struct {
	action lifecycle.Action
	at     time.Time
	to     lifecycle.Status
}

// schedule is the whole scheduler a platform needs on top of NextEvent: sleep
// until the next event, apply what is due as the system, repeat. It stops when
// nothing more will happen or ctx ends.
func schedule(ctx context.Context, m *lifecycle.Machine, s lifecycle.State) ([]applied, error) {
	var log []applied
	for {
		e, ok := m.NextEvent(s)
		if !ok {
			return log, nil
		}
		timer := time.NewTimer(time.Until(e.At))
		select {
		case <-ctx.Done():
			timer.Stop()
			return log, ctx.Err()
		case <-timer.C:
		}
		a, due := m.Due(s, time.Now())
		if !due {
			continue
		}
		tr, err := m.Apply(s, a, lifecycle.System(), lifecycle.Input{}, time.Now())
		if err != nil {
			return log, err
		}
		log = append(log, applied{action: a, at: time.Now(), to: tr.To})
		s = tr.State
	}
}

// TestSuspensionEndsAndCertificateExpires runs a year of virtual time: a
// suspension ends by itself at its end date, then the certificate expires by
// itself right after notAfter.
func TestSuspensionEndsAndCertificateExpires(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m := newMachine(t, lifecycle.Config{})
		rao := actors(t)["rao"]
		start := time.Now()
		na := start.AddDate(1, 0, 0)

		tr, err := m.Apply(lifecycle.State{Status: lifecycle.StatusToIssue}, lifecycle.ActionIssue, rao, lifecycle.Input{NotAfter: na}, start)
		require.NoError(t, err)
		end := start.AddDate(0, 0, 10)
		tr, err = m.Apply(tr.State, lifecycle.ActionSuspend, rao,
			lifecycle.Input{Suspension: &lifecycle.SuspendRequest{End: end, Contract: "sha256:1"}}, start)
		require.NoError(t, err)

		log, err := schedule(t.Context(), m, tr.State)
		require.NoError(t, err)
		require.Len(t, log, 2)
		assert.Equal(t, applied{lifecycle.ActionReleaseHold, end, lifecycle.StatusActive}, log[0])
		assert.Equal(t, applied{lifecycle.ActionExpire, na.Add(time.Nanosecond), lifecycle.StatusExpired}, log[1])
		assert.Equal(t, na.Add(time.Nanosecond), time.Now(), "a year passed in virtual time")
	})
}

// TestHoldEndRevokeUnderSynctest: with the revoke policy the scheduler
// revokes at the end date and nothing follows.
func TestHoldEndRevokeUnderSynctest(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m := newMachine(t, lifecycle.Config{HoldEnd: lifecycle.HoldEndRevoke})
		start := time.Now()
		s := lifecycle.State{Status: lifecycle.StatusSuspended, NotAfter: start.AddDate(2, 0, 0),
			Suspension: &lifecycle.Suspension{Start: start, End: start.Add(72 * time.Hour), By: "op"}}
		log, err := schedule(t.Context(), m, s)
		require.NoError(t, err)
		require.Len(t, log, 1)
		assert.Equal(t, applied{lifecycle.ActionReleaseHold, start.Add(72 * time.Hour), lifecycle.StatusRevoked}, log[0])
	})
}

// TestPublicationDeadlines: a publisher that sleeps until the earliest
// deadline publishes an immediate revocation 1 h and a normal one 24 h after
// the request; custom durations move both.
func TestPublicationDeadlines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		cfg               lifecycle.Config
		immediate, normal time.Duration
	}{
		{name: "defaults", cfg: lifecycle.Config{}, immediate: time.Hour, normal: 24 * time.Hour},
		{name: "configured", cfg: lifecycle.Config{NormalPublication: 12 * time.Hour, ImmediatePublication: 15 * time.Minute},
			immediate: 15 * time.Minute, normal: 12 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				m := newMachine(t, tc.cfg)
				rao := actors(t)["rao"]
				start := time.Now()
				active := lifecycle.State{Status: lifecycle.StatusActive, NotAfter: start.AddDate(1, 0, 0)}
				var pending []lifecycle.PendingChange
				for _, in := range []lifecycle.Input{
					{Revocation: &lifecycle.RevokeRequest{Requester: lifecycle.RequesterOwner, Motivation: lifecycle.MotivationKeyCompromise}},
					{Revocation: &lifecycle.RevokeRequest{Requester: lifecycle.RequesterOwner, Motivation: lifecycle.MotivationDeviceUnusable}},
				} {
					tr, err := m.Apply(active, lifecycle.ActionRevoke, rao, in, start)
					require.NoError(t, err)
					pending = append(pending, *tr.Pending)
				}
				assert.Equal(t, lifecycle.PublicationImmediate, pending[0].Mode)
				assert.Equal(t, lifecycle.PublicationNormal, pending[1].Mode)

				published := map[lifecycle.Publication]time.Time{}
				for len(pending) > 0 {
					next, ok := lifecycle.EarliestDeadline(func(yield func(lifecycle.PendingChange) bool) {
						for _, p := range pending {
							if !yield(p) {
								return
							}
						}
					})
					require.True(t, ok)
					time.Sleep(time.Until(next))
					var rest []lifecycle.PendingChange
					for _, p := range pending {
						if p.Deadline.After(time.Now()) {
							rest = append(rest, p)
							continue
						}
						assert.False(t, p.Overdue(time.Now()), "published by the deadline")
						published[p.Mode] = time.Now()
					}
					pending = rest
				}
				assert.Equal(t, start.Add(tc.immediate), published[lifecycle.PublicationImmediate])
				assert.Equal(t, start.Add(tc.normal), published[lifecycle.PublicationNormal])
			})
		})
	}
}
