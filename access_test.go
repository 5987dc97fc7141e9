package registra_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/access/accesstest"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// lastEvent returns the last audit event of an actor.
func lastEvent(t *testing.T, env *testEnv, actorID string) (registra.AuditEvent, map[string]string) {
	t.Helper()
	events := allEvents(t, env)
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].ActorID == actorID {
			var d map[string]string
			require.NoError(t, json.Unmarshal([]byte(events[i].Details), &d))
			return events[i], d
		}
	}
	t.Fatalf("no event of %s", actorID)
	return registra.AuditEvent{}, nil
}

// TestLogin: password and TOTP open a session; a wrong factor, a replayed
// code or a locked account are refused as ErrUnauthenticated and audited;
// sessions end on logout, when idle, and when the operator is disabled.
func TestLogin(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	rao := env.User(orgA, access.RoleRAO)

	a, err := env.P.Authenticate(ctx, rao.Session.Token.Reveal())
	require.NoError(t, err)
	assert.Equal(t, rao.Username, a.OperatorID)
	assert.Equal(t, orgA, a.Org)
	assert.Equal(t, []access.Role{access.RoleRAO}, a.Roles)

	env.Advance(30 * time.Second)
	_, err = env.P.Login(ctx, rao.Username, "wrong password, long enough", accesstest.Code(t, rao.Secret, env.Now()))
	require.ErrorIs(t, err, registra.ErrUnauthenticated)
	e, d := lastEvent(t, env, rao.Username)
	assert.Equal(t, "session.login", e.Action)
	assert.Equal(t, "refused", d["outcome"])
	assert.Equal(t, "password", d["rule"])

	_, err = env.P.Login(ctx, "nobody", accesstest.Password, "123456")
	require.ErrorIs(t, err, registra.ErrUnauthenticated)

	s, err := env.P.Login(ctx, rao.Username, accesstest.Password, accesstest.Code(t, rao.Secret, env.Now()))
	require.NoError(t, err)
	_, err = env.P.Login(ctx, rao.Username, accesstest.Password, accesstest.Code(t, rao.Secret, env.Now()))
	require.ErrorIs(t, err, registra.ErrUnauthenticated, "a code is used once")
	_, d = lastEvent(t, env, rao.Username)
	assert.Equal(t, "replay", d["rule"])

	require.NoError(t, env.P.Logout(ctx, s.Token.Reveal()))
	_, err = env.P.Authenticate(ctx, s.Token.Reveal())
	require.ErrorIs(t, err, registra.ErrUnauthenticated)
	_, err = env.P.Authenticate(ctx, "not a token")
	require.ErrorIs(t, err, registra.ErrUnauthenticated)

	// Idle sessions end (access.DefaultSessionIdle).
	ir := env.User(orgA, access.RoleIR)
	env.Advance(access.DefaultSessionIdle + time.Minute)
	_, err = env.P.Authenticate(ctx, ir.Session.Token.Reveal())
	require.ErrorIs(t, err, registra.ErrUnauthenticated)

	// Lockout after repeated failures.
	op := env.User(orgA, access.RoleOperator)
	for range access.DefaultMaxFailures {
		_, err = env.P.Login(ctx, op.Username, "wrong password, long enough", "000000")
		require.ErrorIs(t, err, registra.ErrUnauthenticated)
	}
	env.Advance(30 * time.Second)
	_, err = env.P.Login(ctx, op.Username, accesstest.Password, accesstest.Code(t, op.Secret, env.Now()))
	require.ErrorIs(t, err, registra.ErrUnauthenticated, "locked")
	require.ErrorIs(t, err, access.ErrLocked)
	env.Advance(access.DefaultLockout)
	_, err = env.P.Login(ctx, op.Username, accesstest.Password, accesstest.Code(t, op.Secret, env.Now()))
	require.NoError(t, err, "the lock ended")

	// A disabled operator's sessions end and their actor is refused.
	master := env.User(orgA, access.RoleMasterRAO)
	env.Advance(30 * time.Second)
	ms, err := env.P.Login(ctx, master.Username, accesstest.Password, accesstest.Code(t, master.Secret, env.Now()))
	require.NoError(t, err)
	s, err = env.P.Login(ctx, rao.Username, accesstest.Password, accesstest.Code(t, rao.Secret, env.Now()))
	require.NoError(t, err)
	disabled := true
	_, err = env.P.UpdateOperator(ctx, ms.Actor, rao.Username, registra.OperatorUpdate{Disabled: &disabled})
	require.NoError(t, err)
	_, err = env.P.Authenticate(ctx, s.Token.Reveal())
	require.ErrorIs(t, err, registra.ErrUnauthenticated)
	_, err = env.P.CreateDraft(ctx, rao.Actor, orderInput(1))
	require.ErrorIs(t, err, registra.ErrUnauthenticated)
}

// TestOperatorManagement: master RAOs manage their organisation's operators
// up to master RAO; only admins make admins; operators cannot manage
// anyone; a new operator confirms TOTP before logging in.
func TestOperatorManagement(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	master := env.User(orgA, access.RoleMasterRAO)

	op, enr, err := env.P.CreateOperator(ctx, master.Actor, registra.OperatorInput{Username: "new.ir", Name: "New IR",
		TaxCode: " bncnna80a41h501r ", Roles: []access.Role{access.RoleIR}, Unit: "branch", Password: accesstest.Password})
	require.NoError(t, err)
	assert.Equal(t, "BNCNNA80A41H501R", op.TaxCode, "the register keeps the tax code normalised")
	assert.Equal(t, orgA, op.Org)
	assert.Equal(t, "branch", op.Unit)
	assert.False(t, op.Enrolled)
	require.NotEmpty(t, enr.URI.Reveal())

	_, err = env.P.Login(ctx, "new.ir", accesstest.Password, accesstest.Code(t, enr.Secret, env.Now()))
	require.ErrorIs(t, err, registra.ErrUnauthenticated)
	require.ErrorIs(t, err, access.ErrEnrolmentRequired)
	require.NoError(t, env.P.ConfirmTOTP(ctx, "new.ir", accesstest.Password, accesstest.Code(t, enr.Secret, env.Now())))
	env.Advance(30 * time.Second)
	_, err = env.P.Login(ctx, "new.ir", accesstest.Password, accesstest.Code(t, enr.Secret, env.Now()))
	require.NoError(t, err)

	list, err := env.P.Operators(ctx, master.Actor, "")
	require.NoError(t, err)
	var names []string
	for _, o := range list {
		names = append(names, o.Username)
		assert.Equal(t, orgA, o.Org)
	}
	assert.Contains(t, names, "new.ir")
	assert.Contains(t, names, "admin")
	assert.NotContains(t, names, env.User(orgB, access.RoleRAO).Username)

	cases := []struct {
		name  string
		actor registra.Actor
		in    registra.OperatorInput
		want  error
	}{
		{"master makes an admin", master.Actor, registra.OperatorInput{Username: "x.admin", Roles: []access.Role{access.RoleAdmin}, Password: accesstest.Password}, registra.ErrPermission},
		{"rao manages operators", env.User(orgA, access.RoleRAO).Actor, registra.OperatorInput{Username: "x.op", Roles: []access.Role{access.RoleOperator}, Unit: "main", Password: accesstest.Password}, registra.ErrPermission},
		{"unknown unit", master.Actor, registra.OperatorInput{Username: "x.op", Roles: []access.Role{access.RoleOperator}, Unit: "attic", Password: accesstest.Password}, registra.ErrInvalidInput},
		{"weak password", master.Actor, registra.OperatorInput{Username: "x.op", Roles: []access.Role{access.RoleOperator}, Unit: "main", Password: "short"}, registra.ErrInvalidInput},
		{"bad username", master.Actor, registra.OperatorInput{Username: "X Op", Roles: []access.Role{access.RoleOperator}, Unit: "main", Password: accesstest.Password}, registra.ErrInvalidInput},
		{"bad tax code", master.Actor, registra.OperatorInput{Username: "x.op", TaxCode: "BNCNNA80A41H501X", Roles: []access.Role{access.RoleOperator}, Unit: "main", Password: accesstest.Password}, registra.ErrInvalidInput},
		{"taken username", master.Actor, registra.OperatorInput{Username: "new.ir", Roles: []access.Role{access.RoleOperator}, Unit: "main", Password: accesstest.Password}, registra.ErrConflict},
		{"admin makes an admin", env.Admin.Actor, registra.OperatorInput{Org: orgB, Username: "b.admin", Roles: []access.Role{access.RoleAdmin}, Password: accesstest.Password}, nil},
	}
	for _, c := range cases {
		_, _, err := env.P.CreateOperator(ctx, c.actor, c.in)
		if c.want == nil {
			assert.NoError(t, err, c.name)
			continue
		}
		assert.ErrorIs(t, err, c.want, c.name)
	}
	promote := []access.Role{access.RoleAdmin}
	_, err = env.P.UpdateOperator(ctx, master.Actor, "new.ir", registra.OperatorUpdate{Roles: promote})
	assert.ErrorIs(t, err, registra.ErrPermission, "no promotion to admin by a master RAO")
	_, err = env.P.UpdateOperator(ctx, master.Actor, master.Username, registra.OperatorUpdate{Roles: []access.Role{access.RoleRAO}})
	assert.ErrorIs(t, err, registra.ErrPermission, "nobody manages their own record")
	upd, err := env.P.UpdateOperator(ctx, master.Actor, "new.ir", registra.OperatorUpdate{Roles: []access.Role{access.RoleRAO}})
	require.NoError(t, err)
	assert.Equal(t, []access.Role{access.RoleRAO}, upd.Roles)
	assert.Equal(t, "BNCNNA80A41H501R", upd.TaxCode, "kept when not changed")
	bad := "not a tax code"
	_, err = env.P.UpdateOperator(ctx, master.Actor, "new.ir", registra.OperatorUpdate{TaxCode: &bad})
	require.ErrorIs(t, err, registra.ErrInvalidInput)
	assert.Equal(t, "tax_code", namedField(t, err))
	none := ""
	upd, err = env.P.UpdateOperator(ctx, master.Actor, "new.ir", registra.OperatorUpdate{TaxCode: &none})
	require.NoError(t, err)
	assert.Empty(t, upd.TaxCode, "an empty tax code removes it")

	enr2, err := env.P.ResetOperatorTOTP(ctx, master.Actor, "new.ir")
	require.NoError(t, err)
	assert.NotEqual(t, enr.Secret.Reveal(), enr2.Secret.Reveal())
	got, err := env.P.GetOperator(ctx, master.Actor, "new.ir")
	require.NoError(t, err)
	assert.False(t, got.Enrolled)

	// Units are the admins'.
	require.ErrorIs(t, env.P.PutUnit(ctx, master.Actor, orgA, registra.Unit{ID: "north", Name: "North"}), registra.ErrPermission)
	require.NoError(t, env.P.PutUnit(ctx, env.Admin.Actor, orgA, registra.Unit{ID: "north", Name: "North", Parent: "main"}))
	org, err := env.P.Organisation(ctx, master.Actor, orgA)
	require.NoError(t, err)
	assert.Len(t, org.Units, 3)
	require.ErrorIs(t, env.P.PutUnit(ctx, env.Admin.Actor, orgA, registra.Unit{ID: "deep", Name: "Deep", Parent: "north"}), registra.ErrInvalidInput,
		"two levels only")
	orgs, err := env.P.Organisations(ctx, env.Admin.Actor)
	require.NoError(t, err)
	require.Len(t, orgs, 2)
	assert.Equal(t, orgA, orgs[0].ClientCode)
	_, err = env.P.Organisations(ctx, master.Actor)
	require.ErrorIs(t, err, registra.ErrPermission)
	require.NoError(t, env.P.Health(ctx))
	_, err = env.P.Bootstrap(ctx, registra.BootstrapInput{Organisation: registra.Organisation{ClientCode: "NEW", Name: "New"},
		Admin: registra.OperatorInput{Username: "root", Password: accesstest.Password}})
	require.ErrorIs(t, err, registra.ErrConflict, "bootstrap works on an empty platform only")
}

// TestReopen: a platform reopened from its directory keeps its orders,
// products, CA and operators' credentials.
func TestReopen(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	o, pr := env.Issued(t, orgA, 1)
	root := env.P.Hierarchy().Root()
	require.NoError(t, env.P.Close())

	cfg := envConfig(env.Dir, env.Clock, env.EvidenceCA)
	p, err := registra.Open(ctx, cfg)
	require.NoError(t, err)
	defer p.Close()
	assert.True(t, root.Equal(p.Hierarchy().Root()))
	rao := env.User(orgA, access.RoleRAO)
	env.Advance(30 * time.Second)
	s, err := p.Login(ctx, rao.Username, accesstest.Password, accesstest.Code(t, rao.Secret, env.Now()))
	require.NoError(t, err)
	got, err := p.GetOrder(ctx, s.Actor, o.ID)
	require.NoError(t, err)
	assert.Equal(t, o.Status, got.Status)
	gp, err := p.GetProduct(ctx, s.Actor, pr.ID)
	require.NoError(t, err)
	assert.Equal(t, pr.Certificates[0].DER, gp.Certificates[0].DER)
	_, err = p.ResendEnvelope(ctx, s.Actor, pr.ID, registra.PassphraseChoice{UseTaxCode: true})
	require.NoError(t, err, "the vault key is the same")
}

// TestSessionsSurviveRestart: sessions are in the store, so a token issued
// before a restart still authenticates after it; a logged-out one does not,
// nor does one of a disabled operator. Units keep their parent.
func TestSessionsSurviveRestart(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	rao := env.User(orgA, access.RoleRAO)
	ir := env.User(orgA, access.RoleIR)
	op := env.User(orgA, access.RoleOperator)
	require.NoError(t, env.P.Logout(ctx, ir.Session.Token.Reveal()))
	_, err := env.P.UpdateOperator(ctx, env.Admin.Actor, op.Username, registra.OperatorUpdate{Disabled: new(true)})
	require.NoError(t, err)
	require.NoError(t, env.P.Close())

	p, err := registra.Open(ctx, envConfig(env.Dir, env.Clock, env.EvidenceCA))
	require.NoError(t, err)
	defer p.Close()
	env.Advance(time.Minute)
	a, err := p.Authenticate(ctx, rao.Session.Token.Reveal())
	require.NoError(t, err, "the session outlives the restart")
	assert.Equal(t, rao.Username, a.OperatorID)
	_, err = p.Authenticate(ctx, ir.Session.Token.Reveal())
	assert.ErrorIs(t, err, registra.ErrUnauthenticated, "logged out before the restart")
	_, err = p.Authenticate(ctx, op.Session.Token.Reveal())
	assert.ErrorIs(t, err, registra.ErrUnauthenticated, "disabled: its sessions ended")

	org, err := p.Organisation(ctx, a, orgA)
	require.NoError(t, err)
	assert.ElementsMatch(t, []registra.Unit{{ID: "main", Name: "Main office"}, {ID: "branch", Name: "Branch", Parent: "main"}}, org.Units)

	// Logout, then another restart: the token is gone for good.
	require.NoError(t, p.Logout(ctx, rao.Session.Token.Reveal()))
	require.NoError(t, p.Close())
	p2, err := registra.Open(ctx, envConfig(env.Dir, env.Clock, env.EvidenceCA))
	require.NoError(t, err)
	defer p2.Close()
	_, err = p2.Authenticate(ctx, rao.Session.Token.Reveal())
	assert.ErrorIs(t, err, registra.ErrUnauthenticated)
}

// TestExpiredSessionsCleanedUp: the store keeps a session under the SHA-256
// of its token, never the token; a scheduler pass after the sessions'
// lifetime deletes them.
func TestExpiredSessionsCleanedUp(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	rao := env.User(orgA, access.RoleRAO)
	tok := rao.Session.Token
	env.Advance(access.DefaultSessionLifetime - time.Minute)
	_, err := env.P.RunDue(ctx, env.Now())
	require.NoError(t, err)
	require.NoError(t, env.P.Close())
	sessions := func() []store.Session {
		st, err := store.Open(ctx, store.Config{Dir: filepath.Join(env.Dir, "store")})
		require.NoError(t, err)
		defer st.Close()
		snap, err := st.Snapshot(ctx)
		require.NoError(t, err)
		defer snap.Close()
		ss, err := snap.ExpiredSessions(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), store.MaxSearchLimit)
		require.NoError(t, err)
		return ss
	}
	before := sessions()
	require.NotEmpty(t, before, "still within their lifetime")
	ids := map[string]bool{}
	for _, s := range before {
		ids[s.ID] = true
		assert.NotEqual(t, tok.Reveal(), s.ID)
	}
	assert.True(t, ids[access.SessionID(tok)], "kept under the token's SHA-256")

	p, err := registra.Open(ctx, envConfig(env.Dir, env.Clock, env.EvidenceCA))
	require.NoError(t, err)
	env.Advance(2 * time.Minute)
	_, err = p.RunDue(ctx, env.Now())
	require.NoError(t, err)
	require.NoError(t, p.Close())
	assert.Empty(t, sessions(), "the pass after their end deleted them")
}

// TestSlowHashesBusy: when every slot of the slow hashes is taken and the
// queue is full, a login, a TOTP confirmation and a new operator are
// refused with ErrBusy, and an issuance waits until its context ends; none
// of them changes anything: no failure counts towards a lockout, no audit
// event, the order still waits for issuance. Once the hashes move on, the
// same requests succeed.
func TestSlowHashesBusy(t *testing.T) {
	t.Parallel()
	env := openEnv(t, withConfig(func(c *registra.Config) { c.SlowHashes = 1 }))
	ctx := context.Background()
	op, rao, master := env.User(orgA, access.RoleOperator), env.User(orgA, access.RoleRAO), env.User(orgA, access.RoleMasterRAO)
	o, err := env.P.CreateDraft(ctx, op.Actor, env.Order(1))
	require.NoError(t, err)
	_, err = env.P.Submit(ctx, op.Actor, o.ID)
	require.NoError(t, err)
	o, err = env.P.RecordRecognition(ctx, rao.Actor, o.ID, env.Evidence(t, rao, o))
	require.NoError(t, err)
	events := len(allEvents(t, env))

	release := registra.FillHashGate(env.P)
	for range access.DefaultMaxFailures + 1 {
		_, err = env.P.Login(ctx, op.Username, "wrong password, long enough", "000000")
		require.ErrorIs(t, err, registra.ErrBusy)
	}
	_, err = env.P.Login(ctx, "nobody", accesstest.Password, "123456")
	require.ErrorIs(t, err, registra.ErrBusy)
	err = env.P.ConfirmTOTP(ctx, op.Username, "wrong password, long enough", "000000")
	require.ErrorIs(t, err, registra.ErrBusy)
	_, _, err = env.P.CreateOperator(ctx, master.Actor, registra.OperatorInput{Username: "busy.ir", Name: "Busy IR",
		TaxCode: "BNCNNA80A41H501R", Roles: []access.Role{access.RoleIR}, Unit: "main", Password: accesstest.Password})
	require.ErrorIs(t, err, registra.ErrBusy)
	// An issuance is not refused: its codes' hashes wait for a slot, here
	// until its context ends.
	waiting, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = env.P.Issue(waiting, rao.Actor, o.ID, registra.IssueInput{Passphrase: registra.PassphraseChoice{UseTaxCode: true}})
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	release()

	assert.Len(t, allEvents(t, env), events, "a busy refusal is not audited")
	got, err := env.P.GetOrder(ctx, rao.Actor, o.ID)
	require.NoError(t, err)
	assert.Equal(t, o.Status, got.Status)

	env.Advance(30 * time.Second)
	_, err = env.P.Login(ctx, op.Username, accesstest.Password, accesstest.Code(t, op.Secret, env.Now()))
	require.NoError(t, err, "busy refusals are not failures: the account is not locked")
	_, _, err = env.P.CreateOperator(ctx, master.Actor, registra.OperatorInput{Username: "busy.ir", Name: "Busy IR",
		TaxCode: "BNCNNA80A41H501R", Roles: []access.Role{access.RoleIR}, Unit: "main", Password: accesstest.Password})
	require.NoError(t, err)
	pr, err := env.P.Issue(ctx, rao.Actor, o.ID, registra.IssueInput{Passphrase: registra.PassphraseChoice{UseTaxCode: true}})
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusActive, pr.Status)
}

// TestOperatorPasswords: a master RAO resets a forgotten password in their
// organisation (not an admin's, not another organisation's), which clears a
// lock and ends the operator's sessions; an operator changes their own
// password after giving the current one, whose wrong guesses count towards
// the lockout. Refusals change nothing; every change is audited without the
// password.
func TestOperatorPasswords(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	master, op, rao := env.User(orgA, access.RoleMasterRAO), env.User(orgA, access.RoleOperator), env.User(orgA, access.RoleRAO)
	foreign := env.User(orgB, access.RoleMasterRAO)
	const fresh access.Password = "a brand new password 456"
	login := func(u testUser, pw access.Password) error {
		env.Advance(30 * time.Second)
		_, err := env.P.Login(ctx, u.Username, pw, accesstest.Code(t, u.Secret, env.Now()))
		return err
	}

	refusals := []struct {
		name  string
		actor registra.Actor
		id    string
		pw    access.Password
		want  error
	}{
		{"another organisation", foreign.Actor, rao.Username, fresh, registra.ErrNotFound},
		{"without the permission", op.Actor, rao.Username, fresh, registra.ErrPermission},
		{"an admin, by a master RAO", master.Actor, env.Admin.Username, fresh, registra.ErrPermission},
		{"against the policy", master.Actor, rao.Username, "short", registra.ErrInvalidInput},
		{"an unknown operator", master.Actor, "nobody", fresh, registra.ErrNotFound},
	}
	for _, tc := range refusals {
		err := env.P.ResetOperatorPassword(ctx, tc.actor, tc.id, tc.pw)
		require.ErrorIs(t, err, tc.want, tc.name)
	}
	_, err := env.P.Authenticate(ctx, rao.Session.Token.Reveal())
	require.NoError(t, err, "refusals end no session")
	require.NoError(t, login(rao, accesstest.Password), "refusals change no password")

	// Reset: the lock is cleared, the sessions end, the old password is gone.
	for range access.DefaultMaxFailures {
		_, err = env.P.Login(ctx, rao.Username, "wrong password, long enough", "000000")
		require.ErrorIs(t, err, registra.ErrUnauthenticated)
	}
	require.ErrorIs(t, login(rao, accesstest.Password), access.ErrLocked)
	require.NoError(t, env.P.ResetOperatorPassword(ctx, master.Actor, rao.Username, fresh))
	_, err = env.P.Authenticate(ctx, rao.Session.Token.Reveal())
	require.ErrorIs(t, err, registra.ErrUnauthenticated, "the reset ends the operator's sessions")
	require.ErrorIs(t, login(rao, accesstest.Password), registra.ErrUnauthenticated)
	require.NoError(t, login(rao, fresh), "the lock is cleared, the TOTP enrolment kept")
	e, d := lastEvent(t, env, master.Username)
	assert.Equal(t, "operator.reset_password", e.Action)
	assert.Equal(t, rao.Username, e.Subject)
	assert.Equal(t, "done", d["outcome"])
	assert.NotContains(t, e.Details, string(fresh))

	// Change: the current password first.
	s, err := env.P.Login(ctx, op.Username, accesstest.Password, accesstest.Code(t, op.Secret, env.Now()))
	require.NoError(t, err)
	err = env.P.ChangePassword(ctx, s.Actor, "not my password at all", fresh)
	require.ErrorIs(t, err, registra.ErrUnauthenticated)
	e, d = lastEvent(t, env, op.Username)
	assert.Equal(t, "operator.change_password", e.Action)
	assert.Equal(t, "refused", d["outcome"])
	err = env.P.ChangePassword(ctx, s.Actor, accesstest.Password, "short")
	require.ErrorIs(t, err, registra.ErrInvalidInput)
	_, err = env.P.Authenticate(ctx, s.Token.Reveal())
	require.NoError(t, err, "refusals end no session")

	require.NoError(t, env.P.ChangePassword(ctx, s.Actor, accesstest.Password, fresh))
	_, err = env.P.Authenticate(ctx, s.Token.Reveal())
	require.ErrorIs(t, err, registra.ErrUnauthenticated, "every session ends, the caller's too")
	require.ErrorIs(t, login(op, accesstest.Password), registra.ErrUnauthenticated)
	require.NoError(t, login(op, fresh))
	e, d = lastEvent(t, env, op.Username)
	assert.Equal(t, "session.login", e.Action)
	events := allEvents(t, env)
	var changed bool
	for _, ev := range events {
		changed = changed || (ev.Action == "operator.change_password" && strings.Contains(ev.Details, `"done"`))
		assert.NotContains(t, ev.Details, string(fresh))
	}
	assert.True(t, changed, "the change is audited")

	// Wrong current passwords count towards the lockout.
	s, err = env.P.Login(ctx, op.Username, fresh, accesstest.Code(t, op.Secret, env.Now().Add(30*time.Second)))
	require.NoError(t, err)
	for range access.DefaultMaxFailures {
		require.ErrorIs(t, env.P.ChangePassword(ctx, s.Actor, "not my password at all", "yet another password 789"), registra.ErrUnauthenticated)
	}
	require.ErrorIs(t, login(op, fresh), access.ErrLocked)
}
