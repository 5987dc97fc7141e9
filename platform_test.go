package registra_test

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/lifecycle"
)

func TestWorkflowRemoteSignature(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	o, pr := env.Issued(t, orgA, 1)
	assert.Equal(t, lifecycle.StatusActive, o.Status)
	assert.Equal(t, lifecycle.StatusActive, pr.Status)
	require.Len(t, pr.Certificates, 1)
	cert, err := x509.ParseCertificate(pr.Certificates[0].DER)
	require.NoError(t, err)
	assert.Equal(t, "TINIT-"+o.Input.Applicant.TaxCode, cert.Subject.SerialNumber)
	require.Len(t, pr.Envelopes, 1)

	rao := env.User(orgA, access.RoleRAO)
	pr, err = env.P.Suspend(ctx, rao.Actor, pr.ID, registra.SuspendInput{End: env.Now().AddDate(0, 0, 7), Notes: "lost phone", Contract: []byte("%PDF-contract")})
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusSuspended, pr.Status)
	pr, err = env.P.Revoke(ctx, rao.Actor, pr.ID, registra.RevokeInput{Requester: lifecycle.RequesterOwner, Motivation: lifecycle.MotivationKeyCompromise})
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusRevoked, pr.Status)
}
