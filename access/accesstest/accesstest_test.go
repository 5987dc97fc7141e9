package accesstest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/access/accesstest"
)

func TestOperatorLogsIn(t *testing.T) {
	t.Parallel()
	a := accesstest.NewAuthenticator(t, accesstest.WithConfig(func(c *access.Config) { c.MaxFailures = 2 }))
	at := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	org := accesstest.Organisation("ACME")
	require.NoError(t, org.Validate())
	op, secret := accesstest.Operator(t, a, "rossi", "ACME", at, access.RoleRAO)
	require.NoError(t, op.Validate(org))
	later := at.Add(time.Minute)
	_, err := a.Authenticate(t.Context(), op, accesstest.Password, accesstest.Code(t, secret, later), later)
	assert.NoError(t, err)
	_, err = a.Authenticate(t.Context(), op, accesstest.Password, accesstest.Code(t, secret, at), later)
	assert.ErrorIs(t, err, access.ErrAuthentication, "the enrolment's code is used")
}
