package lifecycle_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/registra-pki/registra/lifecycle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSuspend(t *testing.T) {
	t.Parallel()
	m := newMachine(t, lifecycle.Config{MaxNotes: 20})
	acts := actors(t)
	rao, holder := acts["rao"], acts["holder"]
	req := func(mut func(*lifecycle.SuspendRequest)) lifecycle.Input {
		r := lifecycle.SuspendRequest{End: base.AddDate(0, 0, 7), Notes: "travel", Contract: "sha256:c0ffee"}
		mut(&r)
		return lifecycle.Input{Suspension: &r}
	}
	tests := []struct {
		name    string
		by      lifecycle.Actor
		in      lifecycle.Input
		wantErr error
		field   string
	}{
		{name: "operator with contract", by: rao, in: req(func(*lifecycle.SuspendRequest) {})},
		{name: "end at notAfter", by: rao, in: req(func(r *lifecycle.SuspendRequest) { r.End = notAfter })},
		{name: "end one nanosecond ahead", by: rao, in: req(func(r *lifecycle.SuspendRequest) { r.End = base.Add(1) })},
		{name: "holder without contract", by: holder, in: req(func(r *lifecycle.SuspendRequest) { r.Contract = "" })},
		{name: "immediate publication", by: rao, in: func() lifecycle.Input {
			in := req(func(*lifecycle.SuspendRequest) {})
			in.Publication = lifecycle.PublicationImmediate
			return in
		}()},
		{name: "no request", by: rao, in: lifecycle.Input{}, wantErr: lifecycle.ErrInvalidInput, field: "suspension"},
		{name: "no end", by: rao, in: req(func(r *lifecycle.SuspendRequest) { r.End = time.Time{} }),
			wantErr: lifecycle.ErrInvalidInput, field: "suspension.end"},
		{name: "end now", by: rao, in: req(func(r *lifecycle.SuspendRequest) { r.End = base }),
			wantErr: lifecycle.ErrInvalidInput, field: "suspension.end"},
		{name: "end in the past", by: rao, in: req(func(r *lifecycle.SuspendRequest) { r.End = base.Add(-time.Hour) }),
			wantErr: lifecycle.ErrInvalidInput, field: "suspension.end"},
		{name: "end after notAfter", by: rao, in: req(func(r *lifecycle.SuspendRequest) { r.End = notAfter.Add(time.Second) }),
			wantErr: lifecycle.ErrInvalidInput, field: "suspension.end"},
		{name: "operator without contract", by: rao, in: req(func(r *lifecycle.SuspendRequest) { r.Contract = "" }),
			wantErr: lifecycle.ErrInvalidInput, field: "suspension.contract"},
		{name: "notes too long", by: rao, in: req(func(r *lifecycle.SuspendRequest) { r.Notes = strings.Repeat("a", 21) }),
			wantErr: lifecycle.ErrInvalidInput, field: "suspension.notes"},
		{name: "notes with NUL", by: rao, in: req(func(r *lifecycle.SuspendRequest) { r.Notes = "a\x00b" }),
			wantErr: lifecycle.ErrInvalidInput, field: "suspension.notes"},
		{name: "notes not UTF-8", by: rao, in: req(func(r *lifecycle.SuspendRequest) { r.Notes = "\xff" }),
			wantErr: lifecycle.ErrInvalidInput, field: "suspension.notes"},
		{name: "contract too long", by: rao, in: req(func(r *lifecycle.SuspendRequest) { r.Contract = strings.Repeat("c", 257) }),
			wantErr: lifecycle.ErrInvalidInput, field: "suspension.contract"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cur := stateIn(lifecycle.StatusActive)
			tr, err := m.Apply(cur, lifecycle.ActionSuspend, tc.by, tc.in, base)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				fe, ok := errors.AsType[*lifecycle.FieldError](err)
				require.True(t, ok)
				assert.Equal(t, tc.field, fe.Field)
				assert.Zero(t, tr)
				assert.Equal(t, stateIn(lifecycle.StatusActive), cur)
				return
			}
			require.NoError(t, err)
			s := tr.State.Suspension
			require.NotNil(t, s)
			assert.Equal(t, base, s.Start)
			assert.Equal(t, tc.in.Suspension.End, s.End)
			assert.Equal(t, tc.in.Suspension.Contract, s.Contract)
			assert.Equal(t, tc.by.ID, s.By)
			p := tr.Pending
			require.NotNil(t, p)
			assert.Equal(t, lifecycle.ChangeSuspension, p.Kind)
			assert.Equal(t, lifecycle.ReasonCertificateHold, p.Reason)
			assert.Equal(t, base, p.RevocationTime)
			want := lifecycle.PublicationNormal
			if tc.in.Publication == lifecycle.PublicationImmediate {
				want = lifecycle.PublicationImmediate
			}
			assert.Equal(t, want, p.Mode)
			assert.Equal(t, m.Deadline(want, base), p.Deadline)
		})
	}
}

// matrixWant is the requester × motivation matrix written out by hand:
// "" refused, "normal"/"immediate" the default, "immediate!" forced.
var matrixWant = map[lifecycle.Motivation][3]string{ // owner, certifier, third party
	lifecycle.MotivationContractWithdrawal:  {"normal", "normal", ""},
	lifecycle.MotivationKeyCompromise:       {"immediate!", "immediate!", "immediate!"},
	lifecycle.MotivationRoleRevoked:         {"normal", "normal", "immediate"},
	lifecycle.MotivationDeviceUnusable:      {"normal", "", ""},
	lifecycle.MotivationCertifiedDataChange: {"normal", "normal", "normal"},
	lifecycle.MotivationOfficeProcedure:     {"", "normal", ""},
}

func TestRevokeMatrix(t *testing.T) {
	t.Parallel()
	m := newMachine(t, lifecycle.Config{})
	rao := actors(t)["rao"]
	require.Len(t, matrixWant, len(lifecycle.Motivations()))
	for _, mot := range lifecycle.Motivations() {
		for i, req := range lifecycle.Requesters() {
			for _, asked := range []lifecycle.Publication{lifecycle.PublicationDefault, lifecycle.PublicationNormal, lifecycle.PublicationImmediate} {
				t.Run(mot.String()+"/"+req.String()+"/"+asked.String(), func(t *testing.T) {
					t.Parallel()
					cell := matrixWant[mot][i]
					in := lifecycle.Input{Publication: asked, Revocation: &lifecycle.RevokeRequest{
						Requester: req, Motivation: mot, Notes: "n", Contract: "sha256:beef"}}
					cur := stateIn(lifecycle.StatusActive)
					tr, err := m.Apply(cur, lifecycle.ActionRevoke, rao, in, base)
					rule := lifecycle.Matrix(req, mot)
					forced := strings.HasSuffix(cell, "!")
					def := strings.TrimSuffix(cell, "!")
					switch {
					case cell == "":
						assert.False(t, rule.Allowed)
						require.ErrorIs(t, err, lifecycle.ErrInvalidInput)
						fe, _ := errors.AsType[*lifecycle.FieldError](err)
						require.NotNil(t, fe)
						assert.Equal(t, "revocation.motivation", fe.Field)
						assert.Zero(t, tr)
					case forced && asked != lifecycle.PublicationDefault && asked.String() != def:
						require.ErrorIs(t, err, lifecycle.ErrInvalidInput)
						fe, _ := errors.AsType[*lifecycle.FieldError](err)
						require.NotNil(t, fe)
						assert.Equal(t, "publication", fe.Field)
					default:
						require.NoError(t, err)
						assert.Equal(t, def, rule.Default.String())
						assert.Equal(t, forced, rule.Forced)
						mode := asked
						if asked == lifecycle.PublicationDefault {
							mode = rule.Default
						}
						r := tr.State.Revocation
						require.NotNil(t, r)
						assert.Equal(t, mode, r.Publication)
						assert.Equal(t, mot.Reason(), r.Reason)
						assert.Equal(t, base, r.RevocationTime)
						require.NotNil(t, tr.Pending)
						assert.Equal(t, lifecycle.ChangeRevocation, tr.Pending.Kind)
						assert.Equal(t, m.Deadline(mode, base), tr.Pending.Deadline)
					}
				})
			}
		}
	}
}

func TestRevokeRules(t *testing.T) {
	t.Parallel()
	m := newMachine(t, lifecycle.Config{})
	acts := actors(t)
	rao, holder := acts["rao"], acts["holder"]
	rev := func(req lifecycle.Requester, mot lifecycle.Motivation, contract string) lifecycle.Input {
		return lifecycle.Input{Revocation: &lifecycle.RevokeRequest{Requester: req, Motivation: mot, Contract: contract}}
	}
	tests := []struct {
		name    string
		by      lifecycle.Actor
		in      lifecycle.Input
		wantErr error
		field   string
	}{
		{name: "contract withdrawal with contract", by: rao, in: rev(lifecycle.RequesterOwner, lifecycle.MotivationContractWithdrawal, "sha256:1")},
		{name: "contract withdrawal without contract", by: rao, in: rev(lifecycle.RequesterOwner, lifecycle.MotivationContractWithdrawal, ""),
			wantErr: lifecycle.ErrInvalidInput, field: "revocation.contract"},
		{name: "other motivations need no contract", by: rao, in: rev(lifecycle.RequesterThirdParty, lifecycle.MotivationRoleRevoked, "")},
		{name: "holder as owner", by: holder, in: rev(lifecycle.RequesterOwner, lifecycle.MotivationDeviceUnusable, "")},
		{name: "holder as certifier", by: holder, in: rev(lifecycle.RequesterCertifier, lifecycle.MotivationCertifiedDataChange, ""),
			wantErr: lifecycle.ErrInvalidInput, field: "revocation.requester"},
		{name: "no request", by: rao, in: lifecycle.Input{}, wantErr: lifecycle.ErrInvalidInput, field: "revocation"},
		{name: "no requester", by: rao, in: rev(0, lifecycle.MotivationKeyCompromise, ""), wantErr: lifecycle.ErrInvalidInput, field: "revocation.requester"},
		{name: "unknown requester", by: rao, in: rev(9, lifecycle.MotivationKeyCompromise, ""), wantErr: lifecycle.ErrInvalidInput, field: "revocation.requester"},
		{name: "no motivation", by: rao, in: rev(lifecycle.RequesterOwner, 0, ""), wantErr: lifecycle.ErrInvalidInput, field: "revocation.motivation"},
		{name: "unknown motivation", by: rao, in: rev(lifecycle.RequesterOwner, 42, ""), wantErr: lifecycle.ErrInvalidInput, field: "revocation.motivation"},
		{name: "notes with escape", by: rao, in: lifecycle.Input{Revocation: &lifecycle.RevokeRequest{Requester: lifecycle.RequesterOwner,
			Motivation: lifecycle.MotivationKeyCompromise, Notes: "\x1b[31m"}}, wantErr: lifecycle.ErrInvalidInput, field: "revocation.notes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cur := stateIn(lifecycle.StatusActive)
			tr, err := m.Apply(cur, lifecycle.ActionRevoke, tc.by, tc.in, base)
			if tc.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, lifecycle.StatusRevoked, tr.State.Status)
				assert.Equal(t, tc.by.ID, tr.State.Revocation.By)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			fe, ok := errors.AsType[*lifecycle.FieldError](err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, tc.field, fe.Field)
			assert.Zero(t, tr)
			assert.Equal(t, stateIn(lifecycle.StatusActive), cur)
		})
	}
}

// TestRevokeSuspendedDatesBack: the Italian rule and the option that turns
// it off (DESIGN.md "X.509 mapping").
func TestRevokeSuspendedDatesBack(t *testing.T) {
	t.Parallel()
	cur := stateIn(lifecycle.StatusSuspended)
	in := lifecycle.Input{Revocation: &lifecycle.RevokeRequest{Requester: lifecycle.RequesterOwner,
		Motivation: lifecycle.MotivationCertifiedDataChange}}
	for _, tc := range []struct {
		name string
		cfg  lifecycle.Config
		want time.Time
	}{
		{name: "dated back by default", cfg: lifecycle.Config{}, want: cur.Suspension.Start},
		{name: "dated at request when configured", cfg: lifecycle.Config{DateRevocationAtRequest: true}, want: base},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newMachine(t, tc.cfg)
			tr, err := m.Apply(cur, lifecycle.ActionRevoke, actors(t)["rao"], in, base)
			require.NoError(t, err)
			assert.Equal(t, tc.want, tr.State.Revocation.RevocationTime)
			assert.Equal(t, tc.want, tr.Pending.RevocationTime)
			assert.Equal(t, base, tr.Pending.RequestedAt)
			assert.Equal(t, base.Add(24*time.Hour), tr.Pending.Deadline, "the SLA runs from the request, not from the dated-back time")
			assert.Equal(t, lifecycle.ReasonAffiliationChanged, tr.Pending.Reason, "the final reason replaces the hold")
			assert.Nil(t, tr.State.Suspension)
		})
	}
	// A certificate revoked while active is dated at the request either way.
	m := newMachine(t, lifecycle.Config{})
	tr, err := m.Apply(stateIn(lifecycle.StatusActive), lifecycle.ActionRevoke, actors(t)["rao"], in, base)
	require.NoError(t, err)
	assert.Equal(t, base, tr.State.Revocation.RevocationTime)
}

func TestHoldEndPolicies(t *testing.T) {
	t.Parallel()
	cur := stateIn(lifecycle.StatusSuspended)
	end := cur.Suspension.End

	release := newMachine(t, lifecycle.Config{})
	tr, err := release.Apply(cur, lifecycle.ActionReleaseHold, lifecycle.System(), lifecycle.Input{}, end)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusActive, tr.State.Status)
	assert.Nil(t, tr.State.Suspension)
	require.NotNil(t, tr.Pending)
	assert.Equal(t, lifecycle.ChangeReactivation, tr.Pending.Kind)
	assert.Equal(t, lifecycle.ReasonRemoveFromCRL, tr.Pending.Reason)
	assert.Equal(t, end.Add(24*time.Hour), tr.Pending.Deadline)

	for _, tc := range []struct {
		cfg  lifecycle.Config
		want time.Time
	}{
		{cfg: lifecycle.Config{HoldEnd: lifecycle.HoldEndRevoke}, want: cur.Suspension.Start},
		{cfg: lifecycle.Config{HoldEnd: lifecycle.HoldEndRevoke, DateRevocationAtRequest: true}, want: end},
	} {
		m := newMachine(t, tc.cfg)
		tr, err := m.Apply(cur, lifecycle.ActionReleaseHold, lifecycle.System(), lifecycle.Input{}, end)
		require.NoError(t, err)
		assert.Equal(t, lifecycle.StatusRevoked, tr.State.Status)
		r := tr.State.Revocation
		require.NotNil(t, r)
		assert.Equal(t, lifecycle.RequesterCertifier, r.Requester)
		assert.Equal(t, lifecycle.MotivationOfficeProcedure, r.Motivation)
		assert.Equal(t, tc.want, r.RevocationTime)
		assert.Equal(t, lifecycle.ChangeRevocation, tr.Pending.Kind)
		assert.Equal(t, tc.want, tr.Pending.RevocationTime)
	}

	// Not yet due: refused as a transition, naming the end date.
	_, err = release.Apply(cur, lifecycle.ActionReleaseHold, lifecycle.System(), lifecycle.Input{}, end.Add(-1))
	require.ErrorIs(t, err, lifecycle.ErrTransition)
	te, ok := errors.AsType[*lifecycle.TransitionError](err)
	require.True(t, ok)
	assert.Contains(t, te.Rule, "suspension ends at")

	// A suspended state without its suspension record is malformed.
	bad := cur
	bad.Suspension = nil
	_, err = release.Apply(bad, lifecycle.ActionReleaseHold, lifecycle.System(), lifecycle.Input{}, end)
	require.ErrorIs(t, err, lifecycle.ErrInvalidInput)
}

func TestExpire(t *testing.T) {
	t.Parallel()
	m := newMachine(t, lifecycle.Config{})
	for _, status := range []lifecycle.Status{lifecycle.StatusActive, lifecycle.StatusSuspended} {
		cur := stateIn(status)
		_, err := m.Apply(cur, lifecycle.ActionExpire, lifecycle.System(), lifecycle.Input{}, notAfter)
		require.ErrorIs(t, err, lifecycle.ErrTransition, "notAfter itself is still valid (RFC 5280 §4.1.2.5)")
		tr, err := m.Apply(cur, lifecycle.ActionExpire, lifecycle.System(), lifecycle.Input{}, notAfter.Add(time.Nanosecond))
		require.NoError(t, err)
		assert.Equal(t, lifecycle.StatusExpired, tr.State.Status)
		assert.Nil(t, tr.Pending, "expiry changes no revocation status")
		assert.Equal(t, cur.Suspension, tr.State.Suspension, "an expired hold stays recorded")
	}
}

func TestReactivatePublication(t *testing.T) {
	t.Parallel()
	m := newMachine(t, lifecycle.Config{NormalPublication: 6 * time.Hour, ImmediatePublication: 10 * time.Minute})
	rao := actors(t)["rao"]
	for _, tc := range []struct {
		asked lifecycle.Publication
		want  time.Duration
	}{
		{lifecycle.PublicationDefault, 6 * time.Hour},
		{lifecycle.PublicationNormal, 6 * time.Hour},
		{lifecycle.PublicationImmediate, 10 * time.Minute},
	} {
		tr, err := m.Apply(stateIn(lifecycle.StatusSuspended), lifecycle.ActionReactivate, rao, lifecycle.Input{Publication: tc.asked}, base)
		require.NoError(t, err)
		assert.Equal(t, base.Add(tc.want), tr.Pending.Deadline, "%s", tc.asked)
		assert.Nil(t, tr.State.Suspension)
	}
}

// TestMotivationReason pins the one mapping table of DESIGN.md "X.509 mapping".
func TestMotivationReason(t *testing.T) {
	t.Parallel()
	want := map[lifecycle.Motivation]int{
		lifecycle.MotivationContractWithdrawal:  5,
		lifecycle.MotivationKeyCompromise:       1,
		lifecycle.MotivationRoleRevoked:         9,
		lifecycle.MotivationDeviceUnusable:      4,
		lifecycle.MotivationCertifiedDataChange: 3,
		lifecycle.MotivationOfficeProcedure:     0,
	}
	for _, mot := range lifecycle.Motivations() {
		assert.Equal(t, want[mot], int(mot.Reason()), "%s", mot)
		assert.True(t, mot.Reason().Valid())
	}
	assert.True(t, lifecycle.ReasonUnspecified.OmitInCRL())
	assert.False(t, lifecycle.ReasonKeyCompromise.OmitInCRL())
	assert.False(t, lifecycle.Reason(7).Valid(), "RFC 5280 leaves 7 unused")
	assert.Equal(t, "Reason(7)", lifecycle.Reason(7).String())
	assert.Equal(t, "privilegeWithdrawn", lifecycle.ReasonPrivilegeWithdrawn.String())
}

func TestNextEventAndDue(t *testing.T) {
	t.Parallel()
	m := newMachine(t, lifecycle.Config{})
	susp := stateIn(lifecycle.StatusSuspended)
	endAtNotAfter := deepCopy(susp)
	endAtNotAfter.Suspension.End = notAfter
	tests := []struct {
		name   string
		s      lifecycle.State
		want   lifecycle.Event
		exists bool
	}{
		{name: "active expires", s: stateIn(lifecycle.StatusActive), exists: true,
			want: lifecycle.Event{Action: lifecycle.ActionExpire, At: notAfter.Add(time.Nanosecond)}},
		{name: "suspended ends", s: susp, exists: true,
			want: lifecycle.Event{Action: lifecycle.ActionReleaseHold, At: susp.Suspension.End}},
		{name: "suspended to notAfter expires", s: endAtNotAfter, exists: true,
			want: lifecycle.Event{Action: lifecycle.ActionExpire, At: notAfter.Add(time.Nanosecond)}},
		{name: "draft", s: stateIn(lifecycle.StatusDraft)},
		{name: "revoked", s: stateIn(lifecycle.StatusRevoked)},
		{name: "expired", s: stateIn(lifecycle.StatusExpired)},
		{name: "deleted", s: stateIn(lifecycle.StatusDeleted)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, ok := m.NextEvent(tc.s)
			require.Equal(t, tc.exists, ok)
			assert.Equal(t, tc.want, e)
			if !ok {
				_, due := m.Due(tc.s, notAfter.AddDate(10, 0, 0))
				assert.False(t, due)
				return
			}
			_, due := m.Due(tc.s, e.At.Add(-1))
			assert.False(t, due)
			a, due := m.Due(tc.s, e.At)
			require.True(t, due)
			assert.Equal(t, e.Action, a)
			_, err := m.Apply(tc.s, a, lifecycle.System(), lifecycle.Input{}, e.At)
			assert.NoError(t, err, "what is due can be applied")
		})
	}
}

func TestEarliestDeadline(t *testing.T) {
	t.Parallel()
	_, ok := lifecycle.EarliestDeadline(func(func(lifecycle.PendingChange) bool) {})
	assert.False(t, ok)
	changes := []lifecycle.PendingChange{{Deadline: base.Add(3 * time.Hour)}, {Deadline: base.Add(time.Hour)}, {Deadline: base.Add(2 * time.Hour)}}
	got, ok := lifecycle.EarliestDeadline(func(yield func(lifecycle.PendingChange) bool) {
		for _, c := range changes {
			if !yield(c) {
				return
			}
		}
	})
	require.True(t, ok)
	assert.Equal(t, base.Add(time.Hour), got)
	assert.False(t, changes[1].Overdue(base.Add(time.Hour)))
	assert.True(t, changes[1].Overdue(base.Add(time.Hour+1)))
}
