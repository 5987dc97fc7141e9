package registra_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/lifecycle"
)

// TestOrganisationScope checks that an operator of one organisation can
// neither read nor change another organisation's orders, products,
// operators or audit events (acceptance 2 of issue #5): every attempt is
// ErrNotFound, as if the object did not exist, and changes nothing.
func TestOrganisationScope(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	orderA, productA := env.Issued(t, orgA, 1)
	draftA, err := env.P.CreateDraft(ctx, env.User(orgA, access.RoleOperator).Actor, orderInput(2))
	require.NoError(t, err)
	raoA := env.User(orgA, access.RoleRAO)
	before, _ := fingerprintOf(t, env, orderA.ID)
	beforeDraft, _ := fingerprintOf(t, env, draftA.ID)

	intruders := []testUser{}
	for _, r := range []access.Role{access.RoleOperator, access.RoleIR, access.RoleRAO, access.RoleMasterRAO} {
		intruders = append(intruders, env.User(orgB, r))
	}
	for _, u := range intruders {
		a := u.Actor
		attempts := map[string]func() error{
			"get order":   func() error { _, err := env.P.GetOrder(ctx, a, orderA.ID); return err },
			"get product": func() error { _, err := env.P.GetProduct(ctx, a, productA.ID); return err },
			"update":      func() error { _, err := env.P.UpdateDraft(ctx, a, draftA.ID, 0, draftA.Input); return err },
			"delete":      func() error { return env.P.DeleteOrder(ctx, a, draftA.ID) },
			"submit":      func() error { _, err := env.P.Submit(ctx, a, draftA.ID); return err },
			"recognise": func() error {
				_, err := env.P.RecordRecognition(ctx, a, draftA.ID, env.Evidence(t, raoA, draftA))
				return err
			},
			"issue": func() error {
				_, err := env.P.Issue(ctx, a, draftA.ID, registra.IssueInput{Passphrase: registra.PassphraseChoice{UseTaxCode: true}})
				return err
			},
			"suspend": func() error {
				_, err := env.P.Suspend(ctx, a, productA.ID, registra.SuspendInput{End: env.Now().AddDate(0, 0, 1), Contract: []byte("c")})
				return err
			},
			"reactivate": func() error { _, err := env.P.Reactivate(ctx, a, productA.ID, 0); return err },
			"revoke": func() error {
				_, err := env.P.Revoke(ctx, a, productA.ID, registra.RevokeInput{Requester: lifecycle.RequesterOwner,
					Motivation: lifecycle.MotivationKeyCompromise})
				return err
			},
			"resend": func() error {
				_, err := env.P.ResendEnvelope(ctx, a, productA.ID, registra.PassphraseChoice{UseTaxCode: true})
				return err
			},
			"envelope": func() error { _, err := env.P.Envelope(ctx, a, productA.ID, productA.Envelopes[0].ID); return err },
			"get operator": func() error {
				_, err := env.P.GetOperator(ctx, a, raoA.Username)
				return err
			},
			"update operator": func() error {
				disabled := true
				_, err := env.P.UpdateOperator(ctx, a, raoA.Username, registra.OperatorUpdate{Disabled: &disabled})
				return err
			},
			"reset totp": func() error { _, err := env.P.ResetOperatorTOTP(ctx, a, raoA.Username); return err },
			"list operators": func() error {
				_, err := env.P.Operators(ctx, a, orgA)
				return err
			},
			"create operator": func() error {
				_, _, err := env.P.CreateOperator(ctx, a, registra.OperatorInput{Org: orgA, Username: "mole",
					Roles: []access.Role{access.RoleRAO}, Unit: "main", Password: "a long enough password"})
				return err
			},
			"organisation": func() error { _, err := env.P.Organisation(ctx, a, orgA); return err },
		}
		for name, f := range attempts {
			assert.ErrorIs(t, f(), registra.ErrNotFound, "%s by %s", name, u.Username)
		}

		// Search never returns another organisation's orders, whatever
		// the filter.
		page, err := env.P.Search(ctx, a, registra.SearchQuery{OrderID: orderA.ID})
		require.NoError(t, err)
		assert.Empty(t, page.Hits)
		page, err = env.P.Search(ctx, a, registra.SearchQuery{TaxCode: orderA.Input.Applicant.TaxCode})
		require.NoError(t, err)
		assert.Empty(t, page.Hits)
	}

	// The master RAO of OrgB reads its own audit trail only.
	events, err := env.P.AuditEvents(ctx, env.User(orgB, access.RoleMasterRAO).Actor, registra.AuditQuery{Limit: 1000})
	require.NoError(t, err)
	require.NotEmpty(t, events)
	for _, e := range events {
		assert.Equal(t, orgB, e.OrgID)
		assert.NotEqual(t, orderA.ID, e.Subject)
	}
	eventsA, err := env.P.AuditEvents(ctx, env.User(orgA, access.RoleMasterRAO).Actor, registra.AuditQuery{Subject: orderA.ID})
	require.NoError(t, err)
	assert.NotEmpty(t, eventsA)

	// Admins manage every organisation's operators, but never reach its
	// orders or products.
	_, err = env.P.Operators(ctx, env.Admin.Actor, orgB)
	require.NoError(t, err)
	orderB, productB := env.Issued(t, orgB, 3)
	_, err = env.P.GetOrder(ctx, env.Admin.Actor, orderB.ID)
	assert.ErrorIs(t, err, registra.ErrNotFound)
	_, err = env.P.GetProduct(ctx, env.Admin.Actor, productB.ID)
	assert.ErrorIs(t, err, registra.ErrNotFound)

	after, _ := fingerprintOf(t, env, orderA.ID)
	afterDraft, _ := fingerprintOf(t, env, draftA.ID)
	assert.Equal(t, before.orderVersion, after.orderVersion)
	assert.Equal(t, before.statusVersion, after.statusVersion)
	assert.Equal(t, before.changes, after.changes)
	assert.Equal(t, beforeDraft.statusVersion, afterDraft.statusVersion)
	op, err := env.P.GetOperator(ctx, env.User(orgA, access.RoleMasterRAO).Actor, raoA.Username)
	require.NoError(t, err)
	assert.False(t, op.Disabled)
}
