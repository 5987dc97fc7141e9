package lifecycle_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/registra-pki/registra/lifecycle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// expectation is written out by hand, independently of lifecycle.Table, so
// that a change to the table has to be made twice to pass.
type expectation struct {
	from []lifecycle.Status
	to   lifecycle.Status // lifecycle.StatusSame: unchanged
	who  []string
}

var (
	requestRoles = []string{"operator", "ir", "rao", "master_rao"}
	recogniser   = []string{"ir", "rao", "master_rao"}
	raoRoles     = []string{"rao", "master_rao"}
)

var expected = map[lifecycle.Action]expectation{
	lifecycle.ActionCreate: {from: []lifecycle.Status{lifecycle.StatusNone}, to: lifecycle.StatusDraft, who: requestRoles},
	lifecycle.ActionUpdate: {from: []lifecycle.Status{lifecycle.StatusDraft, lifecycle.StatusToIdentify},
		to: lifecycle.StatusSame, who: requestRoles},
	lifecycle.ActionDelete: {from: []lifecycle.Status{lifecycle.StatusDraft, lifecycle.StatusToIdentify, lifecycle.StatusToIssue},
		to: lifecycle.StatusDeleted, who: requestRoles},
	lifecycle.ActionSubmit:            {from: []lifecycle.Status{lifecycle.StatusDraft}, to: lifecycle.StatusToIdentify, who: requestRoles},
	lifecycle.ActionRecordRecognition: {from: []lifecycle.Status{lifecycle.StatusToIdentify}, to: lifecycle.StatusToIssue, who: recogniser},
	lifecycle.ActionIssue:             {from: []lifecycle.Status{lifecycle.StatusToIssue}, to: lifecycle.StatusActive, who: raoRoles},
	lifecycle.ActionSuspend: {from: []lifecycle.Status{lifecycle.StatusActive}, to: lifecycle.StatusSuspended,
		who: append(slices.Clone(raoRoles), "holder")},
	lifecycle.ActionReactivate: {from: []lifecycle.Status{lifecycle.StatusSuspended}, to: lifecycle.StatusActive, who: raoRoles},
	lifecycle.ActionRevoke: {from: []lifecycle.Status{lifecycle.StatusActive, lifecycle.StatusSuspended}, to: lifecycle.StatusRevoked,
		who: append(slices.Clone(raoRoles), "holder")},
	lifecycle.ActionReleaseHold: {from: []lifecycle.Status{lifecycle.StatusSuspended}, to: lifecycle.StatusActive, who: []string{"system"}},
	lifecycle.ActionExpire: {from: []lifecycle.Status{lifecycle.StatusActive, lifecycle.StatusSuspended}, to: lifecycle.StatusExpired,
		who: []string{"system"}},
	lifecycle.ActionResendEnvelope: {from: []lifecycle.Status{lifecycle.StatusActive}, to: lifecycle.StatusSame, who: raoRoles},
}

// deepCopy copies a state, pointers included, to check "no change".
func deepCopy(s lifecycle.State) lifecycle.State {
	if s.Suspension != nil {
		c := *s.Suspension
		s.Suspension = &c
	}
	if s.Revocation != nil {
		c := *s.Revocation
		s.Revocation = &c
	}
	return s
}

// TestApplyEveryTriple is acceptance 1 of issue #5 at the lifecycle level:
// every (status, action, role) triple, with the holder and the system as
// extra actors. Allowed triples give the right status; all others give the
// right error, a zero transition and no change.
func TestApplyEveryTriple(t *testing.T) {
	t.Parallel()
	m := newMachine(t, lifecycle.Config{})
	acts := actors(t)
	require.Len(t, expected, len(lifecycle.Actions()), "every action has an expectation")
	for _, r := range requestRoles {
		require.Contains(t, acts, r, "role table lists %s", r)
	}
	require.Contains(t, acts, "admin")

	n := 0
	for _, status := range lifecycle.Statuses() {
		for _, action := range lifecycle.Actions() {
			for name, actor := range acts {
				n++
				exp := expected[action]
				t.Run(status.String()+"/"+action.String()+"/"+name, func(t *testing.T) {
					t.Parallel()
					cur := stateIn(status)
					before := deepCopy(cur)
					now := nowFor(action, cur)
					tr, err := m.Apply(cur, action, actor, validInput(action), now)
					assert.Equal(t, before, cur, "Apply never modifies its input")

					switch {
					case !slices.Contains(exp.who, name):
						require.ErrorIs(t, err, lifecycle.ErrPermission)
						pe, ok := errors.AsType[*lifecycle.PermissionError](err)
						require.True(t, ok)
						assert.Equal(t, action, pe.Action)
						assert.Zero(t, tr)
					case !slices.Contains(exp.from, status):
						require.ErrorIs(t, err, lifecycle.ErrTransition)
						te, ok := errors.AsType[*lifecycle.TransitionError](err)
						require.True(t, ok)
						assert.Equal(t, status, te.From)
						assert.Equal(t, action, te.Action)
						assert.Empty(t, te.Rule)
						assert.Zero(t, tr)
					default:
						require.NoError(t, err)
						want := exp.to
						if want == lifecycle.StatusSame {
							want = status
						}
						assert.Equal(t, want, tr.To)
						assert.Equal(t, want, tr.State.Status)
						assert.Equal(t, status, tr.From)
						assert.Equal(t, action, tr.Action)
						assert.Equal(t, actor.ID, tr.Actor)
						assert.Equal(t, now, tr.At)
						// A pending change exactly when the revocation status changes.
						switch action {
						case lifecycle.ActionSuspend, lifecycle.ActionReactivate, lifecycle.ActionRevoke, lifecycle.ActionReleaseHold:
							assert.NotNil(t, tr.Pending)
						default:
							assert.Nil(t, tr.Pending)
						}
					}
				})
			}
		}
	}
	assert.Equal(t, len(lifecycle.Statuses())*len(lifecycle.Actions())*len(acts), n)
}

// TestTableMatchesExpectation checks the table's permissions against the
// hand-written expectations: an action whose only actors are roles needs a
// permission some of those roles, and no other, grant.
func TestTableMatchesExpectation(t *testing.T) {
	t.Parallel()
	roles := readRoles(t)
	for _, r := range lifecycle.Table() {
		exp := expected[r.Action]
		assert.ElementsMatch(t, exp.from, r.From, "%s from", r.Action)
		assert.Equal(t, exp.to, r.To, "%s to", r.Action)
		assert.Equal(t, slices.Contains(exp.who, "holder"), r.Holder, "%s holder", r.Action)
		for _, ro := range roles {
			assert.Equal(t, slices.Contains(exp.who, ro.name), slices.Contains(ro.grants, r.Permission),
				"role %s and permission %s of %s", ro.name, r.Permission, r.Action)
		}
	}
}

func TestApplyRefusesMalformed(t *testing.T) {
	t.Parallel()
	m := newMachine(t, lifecycle.Config{})
	rao := actors(t)["rao"]
	tests := []struct {
		name    string
		cur     lifecycle.State
		action  lifecycle.Action
		by      lifecycle.Actor
		in      lifecycle.Input
		wantErr error
		field   string
	}{
		{name: "unknown action", cur: stateIn(lifecycle.StatusActive), action: 0, by: rao, wantErr: lifecycle.ErrInvalidInput, field: "action"},
		{name: "action past the end", cur: stateIn(lifecycle.StatusActive), action: 200, by: rao, wantErr: lifecycle.ErrInvalidInput, field: "action"},
		{name: "unknown status", cur: lifecycle.State{Status: 77}, action: lifecycle.ActionRevoke, by: rao, wantErr: lifecycle.ErrInvalidInput, field: "state.status"},
		{name: "same is not a status", cur: lifecycle.State{Status: lifecycle.StatusSame}, action: lifecycle.ActionUpdate, by: rao, wantErr: lifecycle.ErrInvalidInput, field: "state.status"},
		{name: "actor without kind", cur: stateIn(lifecycle.StatusDraft), action: lifecycle.ActionUpdate, by: lifecycle.Actor{ID: "x"}, wantErr: lifecycle.ErrInvalidInput, field: "actor.kind"},
		{name: "actor without id", cur: stateIn(lifecycle.StatusDraft), action: lifecycle.ActionUpdate,
			by: lifecycle.Actor{Kind: lifecycle.ActorOperator, ID: " ", Grants: rao.Grants}, wantErr: lifecycle.ErrInvalidInput, field: "actor.id"},
		{name: "operator granting itself the scheduler", cur: stateIn(lifecycle.StatusActive), action: lifecycle.ActionExpire,
			by: lifecycle.Actor{Kind: lifecycle.ActorOperator, ID: "x", Grants: []lifecycle.Permission{lifecycle.PermSchedule}}, wantErr: lifecycle.ErrPermission},
		{name: "input for another action", cur: stateIn(lifecycle.StatusDraft), action: lifecycle.ActionSubmit, by: rao,
			in: validInput(lifecycle.ActionRevoke), wantErr: lifecycle.ErrInvalidInput, field: "revocation"},
		{name: "not_after outside issue", cur: stateIn(lifecycle.StatusDraft), action: lifecycle.ActionSubmit, by: rao,
			in: lifecycle.Input{NotAfter: notAfter}, wantErr: lifecycle.ErrInvalidInput, field: "not_after"},
		{name: "publication outside status changes", cur: stateIn(lifecycle.StatusToIssue), action: lifecycle.ActionIssue, by: rao,
			in: lifecycle.Input{NotAfter: notAfter, Publication: lifecycle.PublicationImmediate}, wantErr: lifecycle.ErrInvalidInput, field: "publication"},
		{name: "unknown publication", cur: stateIn(lifecycle.StatusSuspended), action: lifecycle.ActionReactivate, by: rao,
			in: lifecycle.Input{Publication: 9}, wantErr: lifecycle.ErrInvalidInput, field: "publication"},
		{name: "issue without not_after", cur: stateIn(lifecycle.StatusToIssue), action: lifecycle.ActionIssue, by: rao,
			wantErr: lifecycle.ErrInvalidInput, field: "not_after"},
		{name: "issue with past not_after", cur: stateIn(lifecycle.StatusToIssue), action: lifecycle.ActionIssue, by: rao,
			in: lifecycle.Input{NotAfter: base}, wantErr: lifecycle.ErrInvalidInput, field: "not_after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := deepCopy(tc.cur)
			tr, err := m.Apply(tc.cur, tc.action, tc.by, tc.in, base)
			require.ErrorIs(t, err, tc.wantErr)
			assert.Zero(t, tr)
			assert.Equal(t, before, tc.cur)
			if tc.field != "" {
				fe, ok := errors.AsType[*lifecycle.FieldError](err)
				require.True(t, ok, "%v", err)
				assert.Equal(t, tc.field, fe.Field)
			}
		})
	}
}

// TestErrorMessages pins one exact message per error type.
func TestErrorMessages(t *testing.T) {
	t.Parallel()
	m := newMachine(t, lifecycle.Config{})
	acts := actors(t)
	_, err := m.Apply(stateIn(lifecycle.StatusRevoked), lifecycle.ActionSuspend, acts["rao"], validInput(lifecycle.ActionSuspend), base)
	assert.EqualError(t, err, "lifecycle: suspend: product is revoked")

	_, err = m.Apply(stateIn(lifecycle.StatusActive), lifecycle.ActionRevoke, acts["operator"], validInput(lifecycle.ActionRevoke), base)
	assert.EqualError(t, err, `lifecycle: revoke: operator "op-operator" lacks permission product.revoke`)

	in := validInput(lifecycle.ActionSuspend)
	in.Suspension.End = base
	_, err = m.Apply(stateIn(lifecycle.StatusActive), lifecycle.ActionSuspend, acts["rao"], in, base)
	assert.EqualError(t, err, "lifecycle: suspend: suspension.end: must be in the future")

	_, err = m.Apply(stateIn(lifecycle.StatusSuspended), lifecycle.ActionReleaseHold, lifecycle.System(), lifecycle.Input{}, base)
	assert.EqualError(t, err, "lifecycle: release_hold: suspension ends at 2026-03-09T09:30:00Z")

	_, err = lifecycle.ParseStatus("Active")
	assert.EqualError(t, err, `lifecycle: status: unknown value "Active"`)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   lifecycle.Config
		field string
	}{
		{name: "zero is valid", cfg: lifecycle.Config{}},
		{name: "custom durations", cfg: lifecycle.Config{NormalPublication: 12 * time.Hour, ImmediatePublication: 30 * time.Minute}},
		{name: "negative normal", cfg: lifecycle.Config{NormalPublication: -1}, field: "Config.NormalPublication"},
		{name: "negative immediate", cfg: lifecycle.Config{ImmediatePublication: -1}, field: "Config.ImmediatePublication"},
		{name: "immediate slower than normal", cfg: lifecycle.Config{NormalPublication: time.Hour, ImmediatePublication: 2 * time.Hour},
			field: "Config.ImmediatePublication"},
		{name: "immediate slower than default normal", cfg: lifecycle.Config{ImmediatePublication: 25 * time.Hour},
			field: "Config.ImmediatePublication"},
		{name: "unknown hold end policy", cfg: lifecycle.Config{HoldEnd: 7}, field: "Config.HoldEnd"},
		{name: "negative notes limit", cfg: lifecycle.Config{MaxNotes: -5}, field: "Config.MaxNotes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := lifecycle.NewMachine(tc.cfg)
			if tc.field == "" {
				require.NoError(t, err)
				assert.NotNil(t, m)
				return
			}
			require.ErrorIs(t, err, lifecycle.ErrInvalidInput)
			assert.Nil(t, m)
			fe, ok := errors.AsType[*lifecycle.FieldError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
}

func TestMachineTableIsACopy(t *testing.T) {
	t.Parallel()
	m := newMachine(t, lifecycle.Config{HoldEnd: lifecycle.HoldEndRevoke})
	tab := m.Table()
	for i := range tab {
		if tab[i].Action == lifecycle.ActionReleaseHold {
			assert.Equal(t, lifecycle.StatusRevoked, tab[i].To, "policy applied to the machine's table")
		}
		tab[i].To = lifecycle.StatusDeleted
		tab[i].From[0] = lifecycle.StatusDeleted
	}
	for _, r := range m.Table() {
		assert.NotEqual(t, lifecycle.StatusDeleted, r.From[0])
	}
	for _, r := range lifecycle.Table() {
		if r.Action == lifecycle.ActionReleaseHold {
			assert.Equal(t, lifecycle.StatusActive, r.To, "the package table keeps the default policy")
		}
	}
}

func TestStateValidate(t *testing.T) {
	t.Parallel()
	for _, s := range lifecycle.Statuses() {
		assert.NoError(t, stateIn(s).Validate(), "%s", s)
	}
	m := newMachine(t, lifecycle.Config{})
	rao := actors(t)["rao"]
	for _, tc := range []struct {
		name  string
		s     lifecycle.State
		field string
	}{
		{"active without notAfter", lifecycle.State{Status: lifecycle.StatusActive}, "state.not_after"},
		{"suspended without suspension", lifecycle.State{Status: lifecycle.StatusSuspended, NotAfter: notAfter}, "state.suspension"},
		{"revoked without revocation", lifecycle.State{Status: lifecycle.StatusRevoked, NotAfter: notAfter}, "state.revocation"},
		{"unknown status", lifecycle.State{Status: 42}, "state.status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.s.Validate()
			require.ErrorIs(t, err, lifecycle.ErrInvalidInput)
			fe, ok := errors.AsType[*lifecycle.FieldError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, fe.Field)
			_, err = m.Apply(tc.s, lifecycle.ActionRevoke, rao, validInput(lifecycle.ActionRevoke), base)
			require.ErrorIs(t, err, lifecycle.ErrInvalidInput, "Apply refuses a malformed state first")
		})
	}
}

func TestMachineRow(t *testing.T) {
	t.Parallel()
	m := newMachine(t, lifecycle.Config{HoldEnd: lifecycle.HoldEndRevoke})
	r, ok := m.Row(lifecycle.ActionRevoke)
	require.True(t, ok)
	assert.Equal(t, lifecycle.PermProductRevoke, r.Permission)
	r.From[0] = lifecycle.StatusDeleted
	again, _ := m.Row(lifecycle.ActionRevoke)
	assert.Equal(t, lifecycle.StatusActive, again.From[0], "rows are copies")
	r, ok = m.Row(lifecycle.ActionReleaseHold)
	require.True(t, ok)
	assert.Equal(t, lifecycle.StatusRevoked, r.To)
	_, ok = m.Row(0)
	assert.False(t, ok)
}
