package ca_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/x509util"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/ca/catest"
)

// TestSkeletonRebuildsTheLongWayTBS checks that, for every profile, key
// type and several holders and validities, the TBS assembled from a
// profile's skeleton is byte for byte the one x509.CreateCertificate makes
// from the x509util template, and that the certificates Sign makes from it
// carry the subject key identifier x509util computes.
func TestSkeletonRebuildsTheLongWayTBS(t *testing.T) {
	t.Parallel()
	fixtures(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	rsa2048, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	keys := []crypto.Signer{catest.Key(t), p384, rsa2048}
	for _, alg := range []ca.KeyAlgorithm{ca.ECDSAP256, ca.RSA3072} {
		iss := catest.NewIssuer(t, catest.WithKeyAlgorithm(alg), catest.WithLinter(fixLinter))
		h2 := catest.Holder()
		h2.GivenName, h2.Surname, h2.TaxCode = "Niccolò", "D'Angelò", "DNGNCL68R22L219K"
		for _, p := range ca.Profiles() {
			for ki, key := range keys {
				for vi, h := range []ca.Holder{catest.Holder(), h2, catest.RoleHolder()} {
					req := ca.Request{Profile: p, Holder: h, PublicKey: key.Public(), CommonName: "svc.example"}
					if p.DNSNames {
						req.DNSNames = []string{"svc.example"}
					}
					if p.Subject == ca.RoleSubject {
						req.Holder = catest.RoleHolder()
					}
					if vi == 1 {
						req.Validity = p.MinValidity + 1500*time.Millisecond
					}
					long, skel, longSubject, skelSubject, err := ca.TBSBothWays(iss, req)
					require.NoError(t, err, "%s key %d", p.Name, ki)
					if p.DNSNames {
						assert.Nil(t, skel, "%s: the subjectAltName depends on the request", p.Name)
						continue
					}
					require.NotNil(t, skel, "%s key %d: no skeleton", p.Name, ki)
					assert.Equal(t, long, skel, "%s key %d holder %d", p.Name, ki, vi)
					assert.Equal(t, longSubject, skelSubject, p.Name)

					is, err := iss.Issue(context.Background(), req)
					require.NoError(t, err, p.Name)
					ski, err := x509util.GenerateSubjectKeyID(key.Public())
					require.NoError(t, err)
					assert.Equal(t, ski, is.Certificate.SubjectKeyId, p.Name)
				}
			}
		}
	}
}

func TestMarshalPublicKeyMatchesX509(t *testing.T) {
	t.Parallel()
	var keys []crypto.PublicKey
	for _, c := range []elliptic.Curve{elliptic.P224(), elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		require.NoError(t, err)
		keys = append(keys, k.Public())
	}
	r, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	e, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	keys = append(keys, r.Public(), e)
	for i, k := range keys {
		want, err := x509.MarshalPKIXPublicKey(k)
		require.NoError(t, err)
		got, err := ca.MarshalPublicKey(k)
		require.NoError(t, err)
		assert.Equal(t, want, got, "key %d", i)
	}
}
