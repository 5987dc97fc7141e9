package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
)

// testAccounts: units with parents, operators by username and by
// organisation, organisations listed, credentials round trips and their
// preconditions.
func testAccounts(t *testing.T, f *Fixture) {
	ctx := context.Background()
	org, op := f.Org()
	main, sub := f.ID("main"), f.ID("sub")
	r := f.Apply(
		store.PutUnit{Unit: store.Unit{ID: main, OrgID: org, Name: "Sede centrale"}},
		store.PutUnit{Unit: store.Unit{ID: sub, OrgID: org, Name: "Sportello NICOLÒ", ParentID: main}},
	)
	other, otherOp := f.Org()

	for _, tc := range []struct {
		name string
		unit store.Unit
	}{
		{"parent in another organisation", store.Unit{ID: f.ID("u"), OrgID: other, Name: "X", ParentID: main}},
		{"missing parent", store.Unit{ID: f.ID("u"), OrgID: org, Name: "X", ParentID: "nowhere"}},
		{"parent is a secondary unit", store.Unit{ID: f.ID("u"), OrgID: org, Name: "X", ParentID: sub}},
		{"own parent", store.Unit{ID: main, OrgID: org, Name: "X", ParentID: main}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := accountState(t, f, org, other)
			var expect uint64
			if tc.unit.ID == main {
				expect = r.Index
			}
			_, err := f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.PutUnit{Unit: tc.unit, ExpectVersion: expect}}})
			IsConflict(t, err)
			assert.Equal(t, before, accountState(t, f, org, other), "a refused batch changes nothing")
		})
	}
	t.Run("main unit with secondaries cannot become secondary", func(t *testing.T) {
		main2 := f.ID("main")
		f.Apply(store.PutUnit{Unit: store.Unit{ID: main2, OrgID: org, Name: "Filiale"}})
		_, err := f.S.Apply(ctx, &store.Batch{Commands: []store.Command{
			store.PutUnit{Unit: store.Unit{ID: main, OrgID: org, Name: "Sede", ParentID: main2}, ExpectVersion: r.Index}}})
		IsConflict(t, err)
	})

	sealed := []byte{0x00, 0xff, 0x10, 0x80} // opaque to the store, NUL included
	c := store.Credentials{OperatorID: op, OrgID: org, Sealed: sealed, Confirmed: true, LastStep: 59_000_001,
		Failures: 3, LockedUntil: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}
	cr := f.Apply(store.PutCredentials{Credentials: c})
	c.Version = cr.Index
	c.LockedUntil = c.LockedUntil.Truncate(time.Microsecond)

	snap := f.Snap()
	units, err := snap.Units(org)
	require.NoError(t, err)
	byID := map[string]store.Unit{}
	for _, u := range units {
		byID[u.ID] = u
	}
	assert.Equal(t, store.Unit{ID: sub, OrgID: org, Name: "Sportello NICOLÒ", ParentID: main, Version: r.Index}, byID[sub])
	assert.Equal(t, "", byID[main].ParentID)
	for i := 1; i < len(units); i++ {
		assert.Less(t, units[i-1].ID, units[i].ID, "units sorted by ID")
	}

	sop, err := snap.Operator(op)
	require.NoError(t, err)
	byName, err := snap.OperatorByUsername(sop.Username)
	require.NoError(t, err)
	assert.Equal(t, sop, byName)
	upper, err := snap.OperatorByUsername(store.Fold(sop.Username))
	require.NoError(t, err, "usernames compare case-insensitively")
	assert.Equal(t, op, upper.ID)
	_, err = snap.OperatorByUsername("nobody")
	assert.ErrorIs(t, err, store.ErrNotFound)

	second := f.Operator(org)
	ops, err := snap.Operators(org) // the snapshot predates the second operator
	require.NoError(t, err)
	assert.Equal(t, []string{op}, operatorIDs(ops))
	snap.Close()

	snap = f.Snap()
	defer snap.Close()
	ops, err = snap.Operators(org)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{op, second}, operatorIDs(ops))
	ops, err = snap.Operators(other)
	require.NoError(t, err)
	assert.Equal(t, []string{otherOp}, operatorIDs(ops))
	orgs, err := snap.Organisations()
	require.NoError(t, err)
	var orgIDs []string
	for _, o := range orgs {
		orgIDs = append(orgIDs, o.ID)
	}
	assert.Subset(t, orgIDs, []string{org, other})

	got, err := snap.Credentials(op)
	require.NoError(t, err)
	assert.False(t, got.UpdatedAt.IsZero(), "the store stamps UpdatedAt")
	c.UpdatedAt = got.UpdatedAt
	assert.Equal(t, c, got)
	_, err = snap.Credentials(second)
	assert.ErrorIs(t, err, store.ErrNotFound)

	t.Run("preconditions", func(t *testing.T) {
		before := accountState(t, f, org, other)
		for _, cmd := range []store.Command{
			store.PutCredentials{Credentials: c},                                                                                   // exists: ExpectVersion 0
			store.PutCredentials{Credentials: c, ExpectVersion: c.Version + 1},                                                     // stale version
			store.PutCredentials{Credentials: store.Credentials{OperatorID: second, OrgID: org, Sealed: sealed}, ExpectVersion: 1}, // missing
			store.PutCredentials{Credentials: store.Credentials{OperatorID: otherOp, OrgID: org, Sealed: sealed}},                  // other organisation
			store.PutCredentials{Credentials: store.Credentials{OperatorID: "ghost", OrgID: org, Sealed: sealed}},                  // no operator
			store.PutOperator{Operator: store.Operator{ID: f.ID("op"), OrgID: org, Username: store.Fold(sop.Username), Role: "rao"}},
		} {
			_, err := f.S.Apply(ctx, &store.Batch{Commands: []store.Command{cmd}})
			IsConflict(t, err)
		}
		assert.Equal(t, before, accountState(t, f, org, other), "refused batches change nothing")
	})

	next := c
	next.Failures, next.Confirmed = 0, false
	r2 := f.Apply(store.PutCredentials{Credentials: next, ExpectVersion: c.Version})
	s2 := f.Snap()
	defer s2.Close()
	got, err = s2.Credentials(op)
	require.NoError(t, err)
	assert.Equal(t, r2.Index, got.Version)
	assert.Zero(t, got.Failures)
	assert.Equal(t, sealed, got.Sealed)
}

func operatorIDs(ops []store.Operator) []string {
	var out []string
	for _, o := range ops {
		out = append(out, o.ID)
	}
	return out
}

// testSessions: round trip, LastSeen moves, a session's owner cannot
// change, deletion is idempotent, expired sessions are listed earliest
// first.
func testSessions(t *testing.T, f *Fixture) {
	ctx := context.Background()
	org, op := f.Org()
	other, otherOp := f.Org()
	odd := time.Date(2026, 2, 28, 23, 30, 0, 123456789, time.FixedZone("CET", 3600))
	s1 := store.Session{ID: BlobHash(f.ID("tok")), OperatorID: op, OrgID: org, CreatedAt: odd, LastSeen: odd,
		ExpiresAt: odd.Add(8 * time.Hour)}
	s2 := store.Session{ID: BlobHash(f.ID("tok")), OperatorID: op, OrgID: org, CreatedAt: odd, ExpiresAt: odd.Add(time.Hour)}
	s3 := store.Session{ID: BlobHash(f.ID("tok")), OperatorID: otherOp, OrgID: other, CreatedAt: odd, ExpiresAt: odd.Add(2 * time.Hour)}
	r := f.Apply(store.PutSession{Session: s1}, store.PutSession{Session: s2}, store.PutSession{Session: s3})

	norm := func(s store.Session, v uint64) store.Session {
		s.CreatedAt, s.LastSeen, s.ExpiresAt = store.NormalizeTime(s.CreatedAt), store.NormalizeTime(s.LastSeen), store.NormalizeTime(s.ExpiresAt)
		s.Version = v
		return s
	}
	snap := f.Snap()
	got, err := snap.Session(s1.ID)
	require.NoError(t, err)
	assert.Equal(t, norm(s1, r.Index), got)
	mine, err := snap.OperatorSessions(op)
	require.NoError(t, err)
	assert.Len(t, mine, 2)
	expired, err := snap.ExpiredSessions(odd.Add(2*time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, expired, 2)
	assert.Equal(t, []string{s2.ID, s3.ID}, []string{expired[0].ID, expired[1].ID}, "earliest expiry first")
	_, err = snap.ExpiredSessions(odd, 0)
	assert.ErrorIs(t, err, store.ErrInvalidInput)
	snap.Close()

	t.Run("owner cannot change", func(t *testing.T) {
		before := accountState(t, f, org, other)
		moved := s1
		moved.OperatorID, moved.OrgID = otherOp, other
		_, err := f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.PutSession{Session: moved, ExpectVersion: r.Index}}})
		IsConflict(t, err)
		ghost := s1
		ghost.ID, ghost.OperatorID = BlobHash("ghost"), "ghost"
		_, err = f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.PutSession{Session: ghost}}})
		IsConflict(t, err)
		assert.Equal(t, before, accountState(t, f, org, other))
	})

	t.Run("no resurrection", func(t *testing.T) {
		gone := store.Session{ID: BlobHash(f.ID("tok")), OperatorID: op, OrgID: org, CreatedAt: odd, ExpiresAt: odd.Add(time.Hour)}
		rc := f.Apply(store.PutSession{Session: gone})
		f.Apply(store.DeleteSession{ID: gone.ID})
		gone.LastSeen = odd.Add(time.Minute)
		_, err := f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.PutSession{Session: gone, ExpectVersion: rc.Index}}})
		IsConflict(t, err)
		_, err = f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.PutSession{Session: s1}}})
		IsConflict(t, err) // exists: ExpectVersion 0 creates only
	})

	seen := s1
	seen.LastSeen = odd.Add(time.Hour)
	r = f.Apply(store.PutSession{Session: seen, ExpectVersion: r.Index}, store.DeleteSession{ID: s2.ID}, store.DeleteSession{ID: BlobHash("never")})
	snap = f.Snap()
	defer snap.Close()
	got, err = snap.Session(s1.ID)
	require.NoError(t, err)
	assert.Equal(t, norm(seen, r.Index), got)
	_, err = snap.Session(s2.ID)
	assert.ErrorIs(t, err, store.ErrNotFound)
	mine, err = snap.OperatorSessions(op)
	require.NoError(t, err)
	assert.Equal(t, []string{s1.ID}, []string{mine[0].ID})
	assert.Len(t, mine, 1)
}

// testSchedules: the store keeps each order's schedule (suspension end,
// notAfter) in step with its status and product; the range queries return
// what is due.
func testSchedules(t *testing.T, f *Fixture) {
	org, op := f.Org()
	h := f.Holder("Anna", "Verdi", "VRDNNA80A41H501X")
	at := f.Base
	a := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	b := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	c := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	pa := f.Issue(a, at, 1)
	pb := f.Issue(b, at.Add(time.Hour), 1)
	f.Issue(c, at.Add(2*time.Hour), 1)
	notAfterA := pa.Certificates[0].NotAfter

	ids := func(ss []store.Schedule) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.OrderID)
		}
		return out
	}
	snap := f.Snap()
	exp, err := snap.Expiring(time.Time{}, pb.Certificates[0].NotAfter, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{a.ID, b.ID}, ids(exp), "earliest notAfter first, bounded by to")
	exp, err = snap.Expiring(notAfterA.Add(time.Microsecond), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 1)
	require.NoError(t, err)
	assert.Equal(t, []string{b.ID}, ids(exp), "from and limit")
	holds, err := snap.HoldsEnding(time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 10)
	require.NoError(t, err)
	assert.Empty(t, holds)
	snap.Close()

	// Suspend a until a day later, b without an end; revoke c.
	sa := f.Change(a.ID, store.StatusActive, store.StatusSuspended, at.Add(3*time.Hour))
	sa.Change.HoldUntil = at.Add(27 * time.Hour)
	f.Apply(sa, f.Change(b.ID, store.StatusActive, store.StatusSuspended, at.Add(3*time.Hour)),
		f.Change(c.ID, store.StatusActive, store.StatusRevoked, at.Add(3*time.Hour)))
	CheckInvariants(t, f.S)
	snap = f.Snap()
	holds, err = snap.HoldsEnding(time.Time{}, at.Add(27*time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []string{a.ID}, ids(holds))
	assert.Equal(t, store.StatusSuspended, holds[0].Status)
	assert.Equal(t, notAfterA, holds[0].NotAfter)
	holds, err = snap.HoldsEnding(time.Time{}, at.Add(27*time.Hour-time.Microsecond), 10)
	require.NoError(t, err)
	assert.Empty(t, holds, "not yet due")
	exp, err = snap.Expiring(time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 10)
	require.NoError(t, err)
	assert.Equal(t, []string{a.ID, b.ID}, ids(exp), "suspended products still expire; revoked ones do not")
	snap.Close()

	// Reactivating ends the hold; expiring removes the schedule.
	f.Move(a.ID, store.StatusSuspended, store.StatusActive, at.Add(4*time.Hour))
	f.Move(b.ID, store.StatusSuspended, store.StatusExpired, at.Add(4*time.Hour))
	snap = f.Snap()
	defer snap.Close()
	holds, err = snap.HoldsEnding(time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 10)
	require.NoError(t, err)
	assert.Empty(t, holds)
	exp, err = snap.Expiring(time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 10)
	require.NoError(t, err)
	assert.Equal(t, []string{a.ID}, ids(exp))
	_, err = snap.HoldsEnding(time.Time{}, at, store.MaxSearchLimit+1)
	assert.ErrorIs(t, err, store.ErrInvalidInput)
}

// accountState reads everything the account commands write for orgs, to
// check that a refused batch changed nothing.
func accountState(t *testing.T, f *Fixture, orgs ...string) map[string]any {
	t.Helper()
	snap := f.Snap()
	defer snap.Close()
	out := map[string]any{}
	for _, org := range orgs {
		units, err := snap.Units(org)
		require.NoError(t, err)
		ops, err := snap.Operators(org)
		require.NoError(t, err)
		out["units "+org], out["operators "+org] = units, ops
		for _, op := range ops {
			c, err := snap.Credentials(op.ID)
			if err != nil {
				require.ErrorIs(t, err, store.ErrNotFound)
			}
			ss, err := snap.OperatorSessions(op.ID)
			require.NoError(t, err)
			out["credentials "+op.ID], out["sessions "+op.ID] = c, ss
		}
	}
	return out
}
