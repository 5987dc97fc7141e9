package access_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/registra-pki/registra/access"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRolesGolden keeps testdata/roles.golden equal to the role table.
// lifecycle's tests read that file to run their (status, action, role)
// table, since lifecycle may not import access.
func TestRolesGolden(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`# Role table of package access: one line per role, the role's wire name then
# the permissions it grants, sorted. Generated from access.Roles() by
#   go test ./access -run TestRolesGolden -update
# lifecycle's tests read this file to run the (status, action, role) table.
`)
	for _, r := range access.Roles() {
		perms := access.RolePermissions(r)
		names := make([]string, len(perms))
		for i, p := range perms {
			names[i] = string(p)
		}
		fmt.Fprintf(&b, "%s %s\n", r, strings.Join(names, " "))
	}
	const path = "testdata/roles.golden"
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), b.String(), "role table changed: run go test ./access -run TestRolesGolden -update, then lifecycle's tests")
}

// TestLifecycleVocabulary reads lifecycle's pinned permission list (access
// may not import lifecycle): every workflow permission is granted by some
// role, except the scheduler's, which no role may grant.
func TestLifecycleVocabulary(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../lifecycle/testdata/permissions.golden")
	require.NoError(t, err)
	defer f.Close()
	var lifecyclePerms []access.Permission
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			lifecyclePerms = append(lifecyclePerms, access.Permission(line))
		}
	}
	require.NoError(t, sc.Err())
	require.Contains(t, lifecyclePerms, access.Permission("lifecycle.schedule"))

	vocab := access.Permissions()
	for _, p := range lifecyclePerms {
		if p == "lifecycle.schedule" {
			assert.NotContains(t, vocab, p, "no role grants the scheduler's permission")
			continue
		}
		assert.Contains(t, vocab, p, "lifecycle needs %s: some role must grant it", p)
	}
	// And access's workflow constants are spelt as lifecycle spells them.
	for _, p := range []access.Permission{access.PermOrderCreate, access.PermOrderUpdate, access.PermOrderDelete,
		access.PermOrderSubmit, access.PermRecordRecognition, access.PermProductIssue, access.PermProductSuspend,
		access.PermProductReactivate, access.PermProductRevoke, access.PermProductResendEnvelope} {
		assert.Contains(t, lifecyclePerms, p)
	}
	// The Offline upload permission is access's own: lifecycle's table
	// knows only record_recognition, which the root takes on its behalf.
	assert.NotContains(t, lifecyclePerms, access.PermUploadOfflineRecognition)
}

// TestOfflineUploadPermission: a plain operator may upload an Offline
// recognition naming the officer but not record recognitions themselves
// (Manuale operatore, "Offline Recognition Product Request").
func TestOfflineUploadPermission(t *testing.T) {
	t.Parallel()
	op := operator("op1", "ACME", access.RoleOperator)
	assert.NoError(t, access.Authorize(op, access.PermUploadOfflineRecognition, "ACME"))
	assert.ErrorIs(t, access.Authorize(op, access.PermRecordRecognition, "ACME"), access.ErrPermission)
	assert.ErrorIs(t, access.Authorize(op, access.PermUploadOfflineRecognition, "OTHER"), access.ErrPermission)
	admin := operator("a1", "ACME", access.RoleAdmin)
	assert.ErrorIs(t, access.Authorize(admin, access.PermUploadOfflineRecognition, "ACME"), access.ErrPermission)
}

// roleMatrix is the role × permission matrix written out by hand.
var roleMatrix = map[access.Role]string{
	access.RoleOperator:  "order.read order.create order.update order.delete order.submit order.upload_offline_recognition order.relay_remote_recognition",
	access.RoleIR:        "order.read order.create order.update order.delete order.submit order.upload_offline_recognition order.relay_remote_recognition order.record_recognition",
	access.RoleRAO:       "order.read order.create order.update order.delete order.submit order.upload_offline_recognition order.relay_remote_recognition order.record_recognition product.issue product.suspend product.reactivate product.revoke product.resend_envelope",
	access.RoleMasterRAO: "order.read order.create order.update order.delete order.submit order.upload_offline_recognition order.relay_remote_recognition order.record_recognition product.issue product.suspend product.reactivate product.revoke product.resend_envelope operator.manage audit.read",
	access.RoleAdmin:     "organisation.manage unit.manage catalogue.manage ca.manage operator.manage audit.read",
}

// crossOrg lists what an admin may do in another organisation.
var crossOrg = []access.Permission{"organisation.manage", "unit.manage", "catalogue.manage", "ca.manage", "operator.manage"}

// TestAuthorizeMatrix: every role × permission × (own, other organisation).
func TestAuthorizeMatrix(t *testing.T) {
	t.Parallel()
	require.Len(t, roleMatrix, len(access.Roles()))
	for _, role := range access.Roles() {
		granted := strings.Fields(roleMatrix[role])
		got := access.RolePermissions(role)
		assert.Len(t, got, len(granted), "%s", role)
		for _, p := range access.Permissions() {
			for _, resOrg := range []string{"ACME", "OTHER"} {
				t.Run(fmt.Sprintf("%s/%s/%s", role, p, resOrg), func(t *testing.T) {
					t.Parallel()
					op := operator("op1", "ACME", role)
					err := access.Authorize(op, p, resOrg)
					allowed := slices.Contains(granted, string(p)) &&
						(resOrg == "ACME" || (role == access.RoleAdmin && slices.Contains(crossOrg, p)))
					if allowed {
						assert.NoError(t, err)
						return
					}
					require.ErrorIs(t, err, access.ErrPermission)
					pe, ok := errors.AsType[*access.PermissionError](err)
					require.True(t, ok)
					assert.Equal(t, p, pe.Permission)
					assert.Equal(t, resOrg, pe.Org)
				})
			}
		}
	}
}

func TestAuthorizeRules(t *testing.T) {
	t.Parallel()
	rao := operator("rao1", "ACME", access.RoleRAO)
	disabled := rao
	disabled.Disabled = true
	multi := operator("m1", "ACME", access.RoleOperator, access.RoleAdmin)
	assert.NoError(t, access.Authorize(rao, access.PermProductRevoke, "ACME"))
	assert.ErrorIs(t, access.Authorize(disabled, access.PermOrderRead, "ACME"), access.ErrPermission)
	assert.Nil(t, disabled.Permissions())
	assert.ErrorIs(t, access.Authorize(rao, "order.destroy", "ACME"), access.ErrPermission, "unknown permissions are granted by no role")
	assert.ErrorIs(t, access.Authorize(rao, access.PermOrderRead, ""), access.ErrPermission, "a resource without organisation is nobody's")
	// Roles add up: an operator who is also admin manages units anywhere
	// but reads orders only at home.
	assert.NoError(t, access.Authorize(multi, access.PermOrderRead, "ACME"))
	assert.NoError(t, access.Authorize(multi, access.PermUnitManage, "OTHER"))
	assert.ErrorIs(t, access.Authorize(multi, access.PermOrderRead, "OTHER"), access.ErrPermission)
	assert.Equal(t, []access.Permission{"audit.read", "ca.manage", "catalogue.manage", "operator.manage", "order.create",
		"order.delete", "order.read", "order.relay_remote_recognition", "order.submit", "order.update", "order.upload_offline_recognition", "organisation.manage",
		"unit.manage"}, multi.Permissions())

	err := access.Authorize(rao, access.PermOrderRead, "OTHER")
	assert.EqualError(t, err, `access: rao1: order.read in organisation "OTHER": resource belongs to another organisation`)
}

func TestAuthorizeOperatorChange(t *testing.T) {
	t.Parallel()
	master := operator("master", "ACME", access.RoleMasterRAO)
	admin := operator("admin", "PROVIDER", access.RoleAdmin)
	rao := operator("rao", "ACME", access.RoleRAO)
	tests := []struct {
		name    string
		actor   access.Operator
		target  access.Operator
		wantErr error
	}{
		{name: "master creates an operator at home", actor: master, target: operator("new", "ACME", access.RoleOperator)},
		{name: "master creates another master", actor: master, target: operator("new", "ACME", access.RoleMasterRAO)},
		{name: "master in another organisation", actor: master, target: operator("new", "OTHER", access.RoleOperator), wantErr: access.ErrPermission},
		{name: "master creates an admin", actor: master, target: operator("new", "ACME", access.RoleAdmin), wantErr: access.ErrPermission},
		{name: "master changes own record", actor: master, target: operator("master", "ACME", access.RoleMasterRAO, access.RoleAdmin), wantErr: access.ErrPermission},
		{name: "rao cannot manage operators", actor: rao, target: operator("new", "ACME", access.RoleOperator), wantErr: access.ErrPermission},
		{name: "admin creates a master elsewhere", actor: admin, target: operator("new", "ACME", access.RoleMasterRAO)},
		{name: "admin creates an admin", actor: admin, target: operator("new", "PROVIDER", access.RoleAdmin)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := access.AuthorizeOperatorChange(tc.actor, tc.target)
			if tc.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.wantErr)
		})
	}
}

func TestRoleText(t *testing.T) {
	t.Parallel()
	for _, r := range access.Roles() {
		b, err := r.MarshalText()
		require.NoError(t, err)
		var back access.Role
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, r, back)
	}
	_, err := access.Role(0).MarshalText()
	assert.ErrorIs(t, err, access.ErrInvalidInput)
	_, err = access.ParseRole("RAO")
	assert.ErrorIs(t, err, access.ErrInvalidInput)
	assert.Nil(t, access.RolePermissions(0))
	assert.Equal(t, "Role(9)", access.Role(9).String())
}
