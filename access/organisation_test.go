package access_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/registra-pki/registra/access"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOrganisationValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		mut   func(*access.Organisation)
		field string
	}{
		{name: "valid", mut: func(*access.Organisation) {}},
		{name: "client code lower case", mut: func(o *access.Organisation) { o.ClientCode = "acme" }, field: "organisation.client_code"},
		{name: "client code too short", mut: func(o *access.Organisation) { o.ClientCode = "A" }, field: "organisation.client_code"},
		{name: "client code too long", mut: func(o *access.Organisation) { o.ClientCode = strings.Repeat("A", 33) }, field: "organisation.client_code"},
		{name: "no name", mut: func(o *access.Organisation) { o.Name = " " }, field: "organisation.name"},
		{name: "name with newline", mut: func(o *access.Organisation) { o.Name = "a\nb" }, field: "organisation.name"},
		{name: "no units", mut: func(o *access.Organisation) { o.Units = nil }, field: "organisation.units"},
		{name: "only secondary units", mut: func(o *access.Organisation) { o.Units = []access.Unit{{ID: "x", Name: "X", Parent: "y"}} },
			field: "organisation.units"},
		{name: "duplicate unit", mut: func(o *access.Organisation) { o.Units = append(o.Units, access.Unit{ID: "roma", Name: "Roma 2"}) },
			field: "organisation.units[3].id"},
		{name: "bad unit id", mut: func(o *access.Organisation) { o.Units[0].ID = "mi lano" }, field: "organisation.units[0].id"},
		{name: "unit without name", mut: func(o *access.Organisation) { o.Units[2].Name = "" }, field: "organisation.units[2].name"},
		{name: "parent missing", mut: func(o *access.Organisation) { o.Units[1].Parent = "torino" }, field: "organisation.units[1].parent"},
		{name: "three levels", mut: func(o *access.Organisation) {
			o.Units = append(o.Units, access.Unit{ID: "deep", Name: "Deep", Parent: "milano.brera"})
		}, field: "organisation.units[3].parent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := org("ACME")
			tc.mut(&o)
			err := o.Validate()
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, access.ErrInvalidInput)
			fe, ok := errors.AsType[*access.FieldError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
	u, ok := org("ACME").Unit("milano.brera")
	require.True(t, ok)
	assert.False(t, u.Main())
	_, ok = org("ACME").Unit("napoli")
	assert.False(t, ok)
}

func TestOperatorValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		mut   func(*access.Operator)
		field string
	}{
		{name: "valid", mut: func(*access.Operator) {}},
		{name: "admin without units", mut: func(o *access.Operator) { o.Roles = []access.Role{access.RoleAdmin}; o.Units = nil }},
		{name: "no id", mut: func(o *access.Operator) { o.ID = "" }, field: "operator.id"},
		{name: "upper-case username", mut: func(o *access.Operator) { o.Username = "Rossi" }, field: "operator.username"},
		{name: "short username", mut: func(o *access.Operator) { o.Username = "ro" }, field: "operator.username"},
		{name: "other organisation", mut: func(o *access.Operator) { o.Org = "OTHER" }, field: "operator.org"},
		{name: "no roles", mut: func(o *access.Operator) { o.Roles = nil }, field: "operator.roles"},
		{name: "unknown role", mut: func(o *access.Operator) { o.Roles = []access.Role{9} }, field: "operator.roles[0]"},
		{name: "duplicate role", mut: func(o *access.Operator) { o.Roles = []access.Role{access.RoleIR, access.RoleIR} }, field: "operator.roles[1]"},
		{name: "no units", mut: func(o *access.Operator) { o.Units = nil }, field: "operator.units"},
		{name: "unknown unit", mut: func(o *access.Operator) { o.Units = []string{"napoli"} }, field: "operator.units[0]"},
		{name: "duplicate unit", mut: func(o *access.Operator) { o.Units = []string{"roma", "roma"} }, field: "operator.units[1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op := operator("rossi.m", "ACME", access.RoleRAO)
			tc.mut(&op)
			err := op.Validate(org("ACME"))
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, access.ErrInvalidInput)
			fe, ok := errors.AsType[*access.FieldError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
	op := operator("rossi", "ACME", access.RoleRAO)
	assert.True(t, op.WorksIn("milano"))
	assert.False(t, op.WorksIn("roma"))
}
