package ca_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	zx509 "github.com/zmap/zcrypto/x509"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/ca/catest"
)

// TestDerivedParseEqualsZcrypto checks that the certificate the linter
// derives from a shape's base is, field by field and unexported fields
// included (reflect.DeepEqual), what zcrypto's ParseCertificate returns:
// every profile, ECDSA and RSA issuers, P-256, P-384 and RSA holder keys,
// plain, accented and role holders, and a role holder whose organisation
// is its common name (zcrypto then guesses a validation level from the
// subject).
func TestDerivedParseEqualsZcrypto(t *testing.T) {
	t.Parallel()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	rsa2048, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	keys := []crypto.Signer{catest.Key(t), p384, rsa2048}
	accented := catest.Holder()
	accented.GivenName, accented.Surname, accented.TaxCode = "Niccolò", "D'Angelò", "DNGNCL68R22L219K"
	orgIsCN := catest.RoleHolder()
	orgIsCN.Organization = "Mario Rossi"
	for _, alg := range []ca.KeyAlgorithm{ca.ECDSAP256, ca.RSA3072} {
		l, err := ca.NewLinter()
		require.NoError(t, err)
		iss := catest.NewIssuer(t, catest.WithKeyAlgorithm(alg), catest.WithLinter(l))
		for _, p := range ca.Profiles() {
			derived := 0
			for _, key := range keys {
				for _, h := range []ca.Holder{catest.Holder(), accented, catest.RoleHolder(), orgIsCN} {
					if (p.Subject == ca.RoleSubject) != (h.Organization != "") {
						continue
					}
					req := ca.Request{Profile: p, Holder: h, PublicKey: key.Public(), CommonName: "svc.example"}
					if p.DNSNames {
						req.DNSNames = []string{"svc.example"}
					}
					ticket, err := iss.Prepare(context.Background(), req)
					require.NoError(t, err, p.Name)
					want, err := zx509.ParseCertificate(ticket.LintCertificate)
					require.NoError(t, err)
					got, ok := ca.DerivedParse(l, ticket.LintCertificate)
					if !ok {
						continue
					}
					derived++
					assert.Equal(t, want, got, "%s %s", p.Name, h.GivenName)
				}
			}
			assert.Positive(t, derived, "%s: no certificate was derived", p.Name)
		}
	}
}

// TestDerivedParseRefusesOtherForms checks that certificates of a known
// shape whose parts are not in the form the derivation relies on are
// parsed in full, and linted exactly as without the shape cache.
func TestDerivedParseRefusesOtherForms(t *testing.T) {
	t.Parallel()
	l, err := ca.NewLinter()
	require.NoError(t, err)
	key := catest.Key(t)
	issuerKey := catest.Key(t)
	parent := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA", Country: []string{"IT"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, SubjectKeyId: []byte{1, 2, 3, 4}}
	make := func(serial int64, subject pkix.Name, notBefore time.Time) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: subject,
			NotBefore: notBefore, NotAfter: notBefore.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			SubjectKeyId: []byte{9, 9, 9, byte(serial)}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), issuerKey)
		require.NoError(t, err)
		return der
	}
	now := time.Now().Truncate(time.Second)
	first := make(1000, pkix.Name{CommonName: "a", Country: []string{"IT"}}, now)
	require.NoError(t, l.CheckCertificate(first, "first"))
	_, ok := ca.DerivedParse(l, make(1001, pkix.Name{CommonName: "b", Country: []string{"IT"}}, now))
	assert.True(t, ok, "same shape, canonical form")
	// A subject equal to the issuer makes zcrypto check a self-signature.
	same := make(1002, parent.Subject, now)
	_, ok = ca.DerivedParse(l, same)
	assert.False(t, ok, "subject equal to the issuer")
	assert.Equal(t, l.CheckCertificateFull(same, "x") == nil, l.CheckCertificate(same, "x") == nil)
	// A different outer signature algorithm is not in the shape.
	swapped := swapOuterAlgorithm(t, make(1003, pkix.Name{CommonName: "c", Country: []string{"IT"}}, now))
	_, ok = ca.DerivedParse(l, swapped)
	assert.False(t, ok, "outer algorithm differs from the TBS one")
	assert.Equal(t, l.CheckCertificateFull(swapped, "x").Error(), l.CheckCertificate(swapped, "x").Error())
}

// swapOuterAlgorithm replaces the outer signatureAlgorithm of a DER
// ecdsa-with-SHA256 certificate with ecdsa-with-SHA384 (same length).
func swapOuterAlgorithm(t *testing.T, der []byte) []byte {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	out := append([]byte(nil), der...)
	off := len(c.Raw) - len(c.Signature) - 3 - 12 // BIT STRING header, AlgorithmIdentifier of 12 bytes
	require.Equal(t, byte(0x02), out[off+11], "ecdsa-with-SHA256 ends in 2")
	out[off+11] = 0x03
	return out
}
