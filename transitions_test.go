package registra_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// workflowActions are the actions an operator takes through a Platform
// method (release_hold and expire belong to the scheduler: see
// TestScheduler*).
var workflowActions = []lifecycle.Action{
	lifecycle.ActionUpdate, lifecycle.ActionDelete, lifecycle.ActionSubmit, lifecycle.ActionRecordRecognition,
	lifecycle.ActionIssue, lifecycle.ActionSuspend, lifecycle.ActionReactivate, lifecycle.ActionRevoke,
	lifecycle.ActionResendEnvelope,
}

var roles = []access.Role{access.RoleOperator, access.RoleIR, access.RoleRAO, access.RoleMasterRAO, access.RoleAdmin}

// reach takes a new order of OrgA to status s and returns its ID.
func reach(t *testing.T, env *testEnv, s lifecycle.Status, i int) string {
	t.Helper()
	ctx := context.Background()
	op := env.User(orgA, access.RoleOperator)
	rao := env.User(orgA, access.RoleRAO)
	switch s {
	case lifecycle.StatusActive, lifecycle.StatusSuspended, lifecycle.StatusRevoked, lifecycle.StatusExpired:
		o, pr := env.Issued(t, orgA, i)
		switch s {
		case lifecycle.StatusSuspended:
			_, err := env.P.Suspend(ctx, rao.Actor, pr.ID, registra.SuspendInput{End: env.Now().AddDate(0, 1, 0), Contract: []byte("contract")})
			require.NoError(t, err)
		case lifecycle.StatusRevoked:
			_, err := env.P.Revoke(ctx, rao.Actor, pr.ID, registra.RevokeInput{Requester: lifecycle.RequesterCertifier,
				Motivation: lifecycle.MotivationOfficeProcedure})
			require.NoError(t, err)
		case lifecycle.StatusExpired:
			env.Advance(pr.Certificates[0].NotAfter.Sub(env.Now()) + time.Hour)
			rep, err := env.P.RunDue(ctx, env.Now())
			require.NoError(t, err)
			require.Equal(t, 1, rep.Expired)
		}
		return o.ID
	}
	o, err := env.P.CreateDraft(ctx, op.Actor, orderInput(i))
	require.NoError(t, err)
	switch s {
	case lifecycle.StatusDeleted:
		require.NoError(t, env.P.DeleteOrder(ctx, op.Actor, o.ID))
	case lifecycle.StatusToIdentify, lifecycle.StatusToIssue:
		_, err = env.P.Submit(ctx, op.Actor, o.ID)
		require.NoError(t, err)
		if s == lifecycle.StatusToIssue {
			_, err = env.P.RecordRecognition(ctx, rao.Actor, o.ID, env.Evidence(t, rao, o))
			require.NoError(t, err)
		}
	}
	return o.ID
}

// act takes action a on order id as actor, through the Platform method an
// adapter would call.
func act(t *testing.T, env *testEnv, actor registra.Actor, a lifecycle.Action, id string) error {
	t.Helper()
	ctx := context.Background()
	snap, err := env.P.Store().Snapshot(ctx)
	require.NoError(t, err)
	st, err := snap.Status(id)
	require.NoError(t, err)
	snap.Close()
	product := st.ProductID
	if product == "" {
		product = id // the product actions also take the order's ID
	}
	switch a {
	case lifecycle.ActionUpdate:
		o := orderOf(t, env, id)
		_, err = env.P.UpdateDraft(ctx, actor, id, 0, o)
	case lifecycle.ActionDelete:
		err = env.P.DeleteOrder(ctx, actor, id)
	case lifecycle.ActionSubmit:
		_, err = env.P.Submit(ctx, actor, id)
	case lifecycle.ActionRecordRecognition:
		rao := env.User(orgA, access.RoleRAO)
		o, gerr := env.P.GetOrder(ctx, rao.Actor, id)
		require.NoError(t, gerr)
		_, err = env.P.RecordRecognition(ctx, actor, id, env.Evidence(t, rao, o))
	case lifecycle.ActionIssue:
		_, err = env.P.Issue(ctx, actor, id, registra.IssueInput{Passphrase: registra.PassphraseChoice{UseTaxCode: true}})
	case lifecycle.ActionSuspend:
		_, err = env.P.Suspend(ctx, actor, product, registra.SuspendInput{End: env.Now().AddDate(0, 0, 10), Contract: []byte("contract")})
	case lifecycle.ActionReactivate:
		_, err = env.P.Reactivate(ctx, actor, product, lifecycle.PublicationDefault)
	case lifecycle.ActionRevoke:
		_, err = env.P.Revoke(ctx, actor, product, registra.RevokeInput{Requester: lifecycle.RequesterOwner,
			Motivation: lifecycle.MotivationKeyCompromise})
	case lifecycle.ActionResendEnvelope:
		_, err = env.P.ResendEnvelope(ctx, actor, product, registra.PassphraseChoice{Custom: testPassphrase,
			Confirm: testPassphrase})
	default:
		t.Fatalf("no platform method for %s", a)
	}
	return err
}

// orderOf reads an order's input as its operator sees it.
func orderOf(t *testing.T, env *testEnv, id string) registra.OrderInput {
	t.Helper()
	o, err := env.P.GetOrder(context.Background(), env.User(orgA, access.RoleRAO).Actor, id)
	require.NoError(t, err)
	return o.Input
}

// fingerprint is everything an action may change about an order: its
// records' versions, its history and the audit trail's length.
type fingerprint struct {
	orderVersion, statusVersion uint64
	status                      store.Status
	changes, events             int
}

func fingerprintOf(t *testing.T, env *testEnv, id string) (fingerprint, []store.AuditEvent) {
	t.Helper()
	snap, err := env.P.Store().Snapshot(context.Background())
	require.NoError(t, err)
	defer snap.Close()
	o, err := snap.Order(id)
	require.NoError(t, err)
	st, err := snap.Status(id)
	require.NoError(t, err)
	ch, err := snap.StatusChanges(id)
	require.NoError(t, err)
	var events []store.AuditEvent
	require.NoError(t, snap.AuditEvents(0, func(e store.AuditEvent) error { events = append(events, e); return nil }))
	return fingerprint{o.Version, st.Version, st.Status, len(ch), len(events)}, events
}

// TestTransitionTable runs every (status, action, role) triple through the
// Platform (acceptance 1 of issue #5): allowed triples succeed with the
// status of lifecycle's table; the others are refused with ErrPermission
// (the role lacks the action's permission, audited as a refusal) or
// ErrTransition (the action does not apply to the status), and change
// nothing else.
func TestTransitionTable(t *testing.T) {
	t.Parallel()
	statuses := []lifecycle.Status{lifecycle.StatusDraft, lifecycle.StatusToIdentify, lifecycle.StatusToIssue,
		lifecycle.StatusActive, lifecycle.StatusSuspended, lifecycle.StatusRevoked, lifecycle.StatusExpired,
		lifecycle.StatusDeleted}
	table := map[lifecycle.Action]lifecycle.Row{}
	for _, r := range lifecycle.Table() {
		table[r.Action] = r
	}
	for _, s := range statuses {
		t.Run(s.String(), func(t *testing.T) {
			t.Parallel()
			env := openEnv(t)
			n := 100
			shared := reach(t, env, s, n)
			for _, a := range workflowActions {
				for _, role := range roles {
					row := table[a]
					grants := access.Grants([]access.Role{role}, access.Permission(row.Permission))
					allowed := grants && row.Applies(s)
					t.Run(fmt.Sprintf("%s/%s", a, role), func(t *testing.T) {
						actor := env.Admin.Actor
						if role != access.RoleAdmin {
							actor = env.User(orgA, role).Actor
						}
						id := shared
						if allowed {
							n++
							id = reach(t, env, s, n)
						}
						before, _ := fingerprintOf(t, env, id)
						err := act(t, env, actor, a, id)
						after, events := fingerprintOf(t, env, id)
						if allowed {
							require.NoError(t, err)
							want := row.To
							if want == lifecycle.StatusSame {
								want = s
							}
							assert.Equal(t, store.Status(want.String()), after.status)
							last := events[len(events)-1]
							assert.Equal(t, id, last.Subject)
							assert.Contains(t, last.Details, `"outcome":"done"`)
							return
						}
						want := registra.ErrTransition
						if !grants {
							want = registra.ErrPermission
						}
						require.ErrorIs(t, err, want)
						if !grants {
							// Only the refusal is recorded.
							require.Equal(t, before.events+1, after.events)
							last := events[len(events)-1]
							var d map[string]string
							require.NoError(t, json.Unmarshal([]byte(last.Details), &d))
							assert.Equal(t, "refused", d["outcome"])
							assert.Equal(t, actor.OperatorID, last.ActorID)
							after.events--
						}
						assert.Equal(t, before, after, "a refused action changed something")
					})
				}
			}
		})
	}
}

// TestCreatePermission covers the create action, whose status is "none".
func TestCreatePermission(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	for i, role := range roles {
		actor := env.Admin.Actor
		if role != access.RoleAdmin {
			actor = env.User(orgA, role).Actor
		}
		_, err := env.P.CreateDraft(context.Background(), actor, orderInput(i))
		if access.Grants([]access.Role{role}, access.PermOrderCreate) {
			assert.NoError(t, err, role.String())
		} else {
			assert.True(t, errors.Is(err, registra.ErrPermission), "%s: %v", role, err)
		}
	}
}
