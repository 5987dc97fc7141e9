package ca_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/ca/catest"
)

// Shared fixtures: building a linter and an RSA-1024 key are the slow parts.
var (
	fixOnce   sync.Once
	fixLinter *ca.Linter
	rsa1024   *rsa.PrivateKey
	p224      *ecdsa.PrivateKey
)

func fixtures(t *testing.T) {
	t.Helper()
	fixOnce.Do(func() {
		var err error
		fixLinter, err = ca.NewLinter()
		if err != nil {
			panic(err)
		}
		rsa1024, err = rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			panic(err)
		}
		p224, err = ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
		if err != nil {
			panic(err)
		}
	})
}

func csrOf(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "ignored"}}, key)
	require.NoError(t, err)
	return der
}

func TestIssueFromCSR(t *testing.T) {
	t.Parallel()
	iss := catest.NewIssuer(t)
	key := catest.Key(t)
	for _, enc := range []struct {
		name string
		csr  []byte
	}{
		{"DER", csrOf(t, key)},
		{"PEM", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrOf(t, key)})},
	} {
		is, err := iss.Issue(context.Background(), ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), CSR: enc.csr})
		require.NoError(t, err, enc.name)
		assert.True(t, key.Public().(*ecdsa.PublicKey).Equal(is.Certificate.PublicKey), enc.name)
		assert.Equal(t, "Mario Rossi", is.Certificate.Subject.CommonName, "the CSR's subject is ignored")
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	is, err := iss.Issue(context.Background(), ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), CSR: csrOf(t, rsaKey)})
	require.NoError(t, err)
	assert.Equal(t, x509.RSA, is.Certificate.PublicKeyAlgorithm)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	fixtures(t)
	start := time.Date(2026, time.June, 1, 0, 0, 0, 0, time.UTC)
	iss := catest.NewIssuer(t, catest.WithLinter(fixLinter), catest.WithNow(func() time.Time { return start }))
	key := catest.Key(t)
	good := func() ca.Request {
		return ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), PublicKey: key.Public()}
	}
	badSig := csrOf(t, key)
	badSig[len(badSig)-3] ^= 0xff
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	tests := []struct {
		name    string
		change  func(*ca.Request)
		field   string
		wantErr error
	}{
		{"no key", func(r *ca.Request) { r.PublicKey = nil }, "PublicKey", ca.ErrInvalidInput},
		{"CSR and key", func(r *ca.Request) { r.CSR = csrOf(t, key) }, "CSR", ca.ErrInvalidInput},
		{"malformed CSR", func(r *ca.Request) { r.PublicKey, r.CSR = nil, []byte("not a csr") }, "CSR", ca.ErrInvalidInput},
		{"truncated CSR", func(r *ca.Request) { r.PublicKey, r.CSR = nil, csrOf(t, key)[:40] }, "CSR", ca.ErrInvalidInput},
		{"wrong PEM type", func(r *ca.Request) {
			r.PublicKey, r.CSR = nil, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: csrOf(t, key)})
		}, "CSR", ca.ErrInvalidInput},
		{"wrongly signed CSR", func(r *ca.Request) { r.PublicKey, r.CSR = nil, badSig }, "CSR", ca.ErrInvalidInput},
		{"RSA-1024 CSR", func(r *ca.Request) { r.PublicKey, r.CSR = nil, csrOf(t, rsa1024) }, "CSR", ca.ErrInvalidInput},
		{"RSA-1024 key", func(r *ca.Request) { r.PublicKey = rsa1024.Public() }, "PublicKey", ca.ErrInvalidInput},
		{"P-224 CSR", func(r *ca.Request) { r.PublicKey, r.CSR = nil, csrOf(t, p224) }, "CSR", ca.ErrInvalidInput},
		{"P-224 key", func(r *ca.Request) { r.PublicKey = p224.Public() }, "PublicKey", ca.ErrInvalidInput},
		{"Ed25519 key", func(r *ca.Request) { r.PublicKey = edKey.Public() }, "PublicKey", ca.ErrInvalidInput},
		{"invalid tax code", func(r *ca.Request) { r.Holder.TaxCode = "RSSMRA85T10A562T" }, "Holder.TaxCode", ca.ErrInvalidInput},
		{"tax code of someone else", func(r *ca.Request) { r.Holder.TaxCode = "BNCLRA90C45H501W" }, "Holder.TaxCode", ca.ErrInvalidInput},
		{"empty given name", func(r *ca.Request) { r.Holder.GivenName = "  " }, "Holder.GivenName", ca.ErrInvalidInput},
		{"empty surname", func(r *ca.Request) { r.Holder.Surname = "" }, "Holder.Surname", ca.ErrInvalidInput},
		{"control character", func(r *ca.Request) { r.Holder.Surname = "Ros\x07si" }, "Holder.Surname", ca.ErrInvalidInput},
		{"no IUT", func(r *ca.Request) { r.Holder.IUT = "" }, "Holder.IUT", ca.ErrInvalidInput},
		{"IUT not printable", func(r *ca.Request) { r.Holder.IUT = "IUT_1*" }, "Holder.IUT", ca.ErrInvalidInput},
		{"bad country", func(r *ca.Request) { r.Holder.Country = "it" }, "Holder.Country", ca.ErrInvalidInput},
		{"role without organisation", func(r *ca.Request) { r.Profile = ca.Role }, "Holder.Organization", ca.ErrInvalidInput},
		{"role with bad organisation id", func(r *ca.Request) {
			r.Profile, r.Holder = ca.Role, catest.RoleHolder()
			r.Holder.OrganizationIdentifier = "12345678901"
		}, "Holder.OrganizationIdentifier", ca.ErrInvalidInput},
		{"validity too short", func(r *ca.Request) { r.Validity = time.Hour }, "Validity", ca.ErrInvalidInput},
		{"validity too long", func(r *ca.Request) { r.Validity = 7 * 365 * 24 * time.Hour }, "Validity", ca.ErrInvalidInput},
		{"one-shot too long", func(r *ca.Request) { r.Profile, r.Validity = ca.OneShot, 2*time.Hour }, "Validity", ca.ErrInvalidInput},
		{"DNS names on a person", func(r *ca.Request) { r.DNSNames = []string{"a.example"} }, "DNSNames", ca.ErrInvalidInput},
		{"TLS without DNS names", func(r *ca.Request) { r.Profile, r.CommonName = ca.ServerTLS, "x" }, "DNSNames", ca.ErrInvalidInput},
		{"TLS with a bad name", func(r *ca.Request) { r.Profile, r.DNSNames = ca.ServerTLS, []string{"bad name"} }, "DNSNames", ca.ErrInvalidInput},
		{"broken profile", func(r *ca.Request) { r.Profile.MaxValidity = 0 }, "Profile.MaxValidity", ca.ErrInvalidInput},
		{"qualified service", func(r *ca.Request) { r.Profile = ca.ServerTLS; r.Profile.Qualified = true }, "Profile.Qualified", ca.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := good()
			tc.change(&req)
			ticket, err := iss.Prepare(context.Background(), req)
			require.ErrorIs(t, err, tc.wantErr)
			assert.Nil(t, ticket)
			fe, ok := errors.AsType[*ca.FieldError](err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, tc.field, fe.Field, err.Error())
			is, err := iss.Issue(context.Background(), req)
			assert.ErrorIs(t, err, tc.wantErr)
			assert.Nil(t, is)
		})
	}
}

func TestBadInputMessages(t *testing.T) {
	t.Parallel()
	fixtures(t)
	iss := catest.NewIssuer(t, catest.WithLinter(fixLinter))
	_, err := iss.Prepare(context.Background(), ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), PublicKey: rsa1024.Public()})
	require.Error(t, err)
	assert.Equal(t, "ca: PublicKey: RSA key must have at least 2048 bits", err.Error())

	h := catest.Holder()
	h.TaxCode = "RSSMRA85T10A562T"
	_, err = iss.Prepare(context.Background(), ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: h, PublicKey: catest.Key(t).Public()})
	require.Error(t, err)
	assert.Equal(t, "ca: Holder.TaxCode: not a valid tax code: taxcode: check character: is T, the first 15 characters give S", err.Error())
}

func TestValidityPastIssuingCA(t *testing.T) {
	t.Parallel()
	fixtures(t)
	created := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	now := created
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	iss := catest.NewIssuer(t, catest.WithLinter(fixLinter), catest.WithNow(clock))
	caEnd := iss.Hierarchy().Issuing().NotAfter

	mu.Lock()
	now = caEnd.Add(-2 * 365 * 24 * time.Hour) // two years left
	mu.Unlock()
	_, err := iss.Issue(context.Background(), ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), PublicKey: catest.Key(t).Public()})
	require.ErrorIs(t, err, ca.ErrInvalidInput)
	fe, ok := errors.AsType[*ca.FieldError](err)
	require.True(t, ok)
	assert.Equal(t, "Validity", fe.Field)
	assert.Contains(t, fe.Rule, "after the issuing CA certificate")

	// A one-year certificate still fits.
	is, err := iss.Issue(context.Background(), ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), PublicKey: catest.Key(t).Public(), Validity: 365 * 24 * time.Hour})
	require.NoError(t, err)
	assert.False(t, is.Certificate.NotAfter.After(caEnd))
}

func TestLintRefusesIssuance(t *testing.T) {
	t.Parallel()
	fixtures(t)
	iss := catest.NewIssuer(t, catest.WithLinter(fixLinter))
	// A qualified profile with a key usage ECDSA keys may not carry.
	p := ca.QualifiedNaturalPerson
	p.Name = "broken"
	p.KeyUsage = x509.KeyUsageKeyEncipherment
	ticket, err := iss.Prepare(context.Background(), ca.Request{Profile: p, Holder: catest.Holder(), PublicKey: catest.Key(t).Public()})
	require.ErrorIs(t, err, ca.ErrLint)
	assert.Nil(t, ticket)
	le, ok := errors.AsType[*ca.LintError](err)
	require.True(t, ok)
	var names []string
	for _, f := range le.Findings {
		names = append(names, f.Lint)
		assert.Contains(t, []string{"error", "fatal"}, f.Status)
	}
	assert.Contains(t, names, "e_ecdsa_allowed_ku")
	assert.Equal(t, "ca: lint certificate broken: "+joinNames(names), err.Error())
	// Each finding is in the chain too.
	f, ok := errors.AsType[ca.LintFinding](err)
	require.True(t, ok)
	assert.Equal(t, le.Findings[0], f)
}

func joinNames(n []string) string {
	var b bytes.Buffer
	for i, s := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	return b.String()
}

// TestZlintNoErrorPerProfile runs zlint's own entry point with the filtered
// registry on a certificate of every profile and on the hierarchy's
// certificates (acceptance item 3).
func TestZlintNoErrorPerProfile(t *testing.T) {
	t.Parallel()
	fixtures(t)
	for _, alg := range []ca.KeyAlgorithm{ca.ECDSAP256, ca.RSA3072} {
		t.Run(alg.String(), func(t *testing.T) {
			t.Parallel()
			iss := catest.NewIssuer(t, catest.WithLinter(fixLinter), catest.WithKeyAlgorithm(alg))
			certs := map[string]*x509.Certificate{
				"root": iss.Hierarchy().Root(), "issuing": iss.Hierarchy().Issuing(), "ocsp": iss.Hierarchy().OCSP(),
			}
			for _, p := range ca.Profiles() {
				certs[p.Name] = catest.Issue(t, iss, p).Certificate
			}
			for name, c := range certs {
				rs, err := fixLinter.LintAll(c.Raw)
				require.NoError(t, err)
				require.NotEmpty(t, rs.Results)
				for lintName, r := range rs.Results {
					assert.NotContains(t, []string{"error", "fatal"}, r.Status.String(), "%s: %s %s", name, lintName, r.Details)
				}
				assert.False(t, rs.ErrorsPresent, name)
				assert.False(t, rs.FatalsPresent, name)
			}
		})
	}
}

// TestLintShapeCacheKeepsVerdicts shows that running only the lints that
// apply (the shape cache) gives the verdict of running every lint.
func TestLintShapeCacheKeepsVerdicts(t *testing.T) {
	t.Parallel()
	l, err := ca.NewLinter()
	require.NoError(t, err)
	iss := catest.NewIssuer(t, catest.WithLinter(l))
	ctx := context.Background()
	holders := []ca.Holder{catest.Holder(), catest.RoleHolder()}
	h2 := catest.Holder()
	h2.GivenName, h2.Surname, h2.TaxCode = "Niccolò", "D'Angelò", "DNGNCL68R22L219K"
	holders = append(holders, h2)
	for _, p := range ca.Profiles() {
		for range 2 {
			for _, h := range holders {
				req := ca.Request{Profile: p, Holder: h, PublicKey: catest.Key(t).Public(), CommonName: "svc.example"}
				if p.DNSNames {
					req.DNSNames = []string{"svc.example"}
				}
				if p.Subject == ca.RoleSubject {
					req.Holder = catest.RoleHolder()
				}
				ticket, err := iss.Prepare(ctx, req)
				require.NoError(t, err, p.Name)
				assert.NoError(t, l.CheckCertificateFull(ticket.LintCertificate, p.Name))
			}
		}
	}
	// A certificate with a broken qcStatement (a PDS over http) fails both when its shape is new and when it is cached.
	key := catest.Key(t)
	qc, err := ca.QCStatements{Compliance: true, Types: []asn1.ObjectIdentifier{ca.OIDQcTypeESign},
		PDS: []ca.PDSLocation{{URL: "http://pki.registra.example/pds", Language: "en"}}}.Extension()
	require.NoError(t, err)
	for i := range 3 {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(100 + i)), Subject: pkix.Name{CommonName: "x", SerialNumber: "TINIT-RSSMRA85T10A562S"},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageContentCommitment,
			ExtraExtensions: []pkix.Extension{qc},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		require.NoError(t, err)
		err = l.CheckCertificate(der, "hand-made")
		require.ErrorIs(t, err, ca.ErrLint, "round %d", i)
		assert.Contains(t, err.Error(), "e_qcstatem_pds_must_have_https_only")
		assert.Equal(t, l.CheckCertificateFull(der, "hand-made").Error(), err.Error())
	}
}

func TestTwoPhaseIssuance(t *testing.T) {
	t.Parallel()
	fixtures(t)
	iss := catest.NewIssuer(t, catest.WithLinter(fixLinter))
	other := catest.NewIssuer(t, catest.WithLinter(fixLinter))
	ctx := context.Background()
	ticket, err := iss.Prepare(ctx, ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), PublicKey: catest.Key(t).Public()})
	require.NoError(t, err)
	assert.Equal(t, "qualified", ticket.Profile)
	assert.Equal(t, 127, ticket.SerialNumber.BitLen())
	assert.Contains(t, ticket.Subject, "TINIT-RSSMRA85T10A562S")

	// The lint certificate carries the TBS, signed by another key.
	lc, err := x509.ParseCertificate(ticket.LintCertificate)
	require.NoError(t, err)
	assert.Equal(t, ticket.TBS, lc.RawTBSCertificate)
	assert.Error(t, lc.CheckSignatureFrom(iss.Hierarchy().Issuing()), "never a valid certificate")

	_, err = other.Sign(ctx, ticket)
	require.ErrorIs(t, err, ca.ErrTicket)

	// Changing the exported TBS changes nothing: the ticket keeps its own copy.
	linted := bytes.Clone(ticket.TBS)
	ticket.TBS[len(ticket.TBS)-1] ^= 0xff

	is, err := iss.Sign(ctx, ticket)
	require.NoError(t, err)
	assert.Equal(t, linted, is.Certificate.RawTBSCertificate)
	assert.Equal(t, ticket.SerialNumber, is.Certificate.SerialNumber)
	assert.NoError(t, is.Certificate.CheckSignatureFrom(iss.Hierarchy().Issuing()))

	_, err = iss.Sign(ctx, ticket)
	require.ErrorIs(t, err, ca.ErrTicket)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = iss.Issue(cctx, ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), PublicKey: catest.Key(t).Public()})
	assert.ErrorIs(t, err, context.Canceled)

	// Serials differ.
	seen := map[string]bool{}
	for range 50 {
		tk, err := iss.Prepare(ctx, ca.Request{Profile: ca.OneShot, Holder: catest.Holder(), PublicKey: catest.Key(t).Public()})
		require.NoError(t, err)
		assert.False(t, seen[tk.SerialNumber.String()])
		seen[tk.SerialNumber.String()] = true
	}
}

func TestIssuePair(t *testing.T) {
	t.Parallel()
	fixtures(t)
	iss := catest.NewIssuer(t, catest.WithLinter(fixLinter))
	sigKey, authKey := catest.Key(t), catest.Key(t)
	pair, err := iss.IssuePair(context.Background(), ca.PairRequest{
		Signature:      ca.Request{Holder: catest.Holder(), CSR: csrOf(t, sigKey)},
		Authentication: ca.Request{CSR: csrOf(t, authKey)},
	})
	require.NoError(t, err)
	assert.Equal(t, "qualified", pair.Signature.Profile)
	assert.Equal(t, "authentication", pair.Authentication.Profile)
	assert.Equal(t, x509.KeyUsageContentCommitment, pair.Signature.Certificate.KeyUsage)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, pair.Authentication.Certificate.ExtKeyUsage)
	assert.Equal(t, pair.Signature.Certificate.RawSubject, pair.Authentication.Certificate.RawSubject)
	assert.True(t, authKey.Public().(*ecdsa.PublicKey).Equal(pair.Authentication.Certificate.PublicKey))

	// Bad input in the second request: nothing is issued, the field is named.
	_, err = iss.IssuePair(context.Background(), ca.PairRequest{
		Signature:      ca.Request{Holder: catest.Holder(), CSR: csrOf(t, sigKey)},
		Authentication: ca.Request{CSR: csrOf(t, rsa1024)},
	})
	require.ErrorIs(t, err, ca.ErrInvalidInput)
	fe, ok := errors.AsType[*ca.FieldError](err)
	require.True(t, ok)
	assert.Equal(t, "Authentication.CSR", fe.Field)

	other := catest.Holder()
	other.TaxCode = "BNCLRA90C45H501W"
	_, err = iss.IssuePair(context.Background(), ca.PairRequest{
		Signature:      ca.Request{Holder: catest.Holder(), CSR: csrOf(t, sigKey)},
		Authentication: ca.Request{Holder: other, CSR: csrOf(t, authKey)},
	})
	require.ErrorIs(t, err, ca.ErrInvalidInput)
}

func TestSignCRL(t *testing.T) {
	t.Parallel()
	fixtures(t)
	iss := catest.NewIssuer(t, catest.WithLinter(fixLinter))
	now := time.Date(2026, time.May, 4, 12, 0, 0, 0, time.UTC)
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(7),
		ThisUpdate: now,
		NextUpdate: now.Add(24 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{
			{SerialNumber: big.NewInt(1001), RevocationTime: now.Add(-time.Hour), ReasonCode: 1},
			{SerialNumber: big.NewInt(1002), RevocationTime: now.Add(-2 * time.Hour), ReasonCode: 6},
		},
	}
	before := *tmpl
	der, err := iss.SignCRL(context.Background(), tmpl)
	require.NoError(t, err)
	assert.Equal(t, before, *tmpl, "template not modified")
	crl, err := x509.ParseRevocationList(der)
	require.NoError(t, err)
	assert.NoError(t, crl.CheckSignatureFrom(iss.Hierarchy().Issuing()))
	assert.Equal(t, big.NewInt(7), crl.Number)
	assert.Len(t, crl.RevokedCertificateEntries, 2)
	assert.Equal(t, iss.Hierarchy().Issuing().SubjectKeyId, crl.AuthorityKeyId)

	// An entry with the unused reason code 7 fails the RFC 5280 lint.
	bad := *tmpl
	bad.RevokedCertificateEntries = []x509.RevocationListEntry{{SerialNumber: big.NewInt(5), RevocationTime: now, ReasonCode: 7}}
	_, err = iss.SignCRL(context.Background(), &bad)
	require.ErrorIs(t, err, ca.ErrLint)
	assert.Contains(t, err.Error(), "e_crl_has_valid_reason_code")

	_, err = iss.SignCRL(context.Background(), &x509.RevocationList{ThisUpdate: now, NextUpdate: now.Add(time.Hour)})
	assert.ErrorIs(t, err, ca.ErrInvalidInput)
	_, err = iss.SignCRL(context.Background(), &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now})
	assert.ErrorIs(t, err, ca.ErrInvalidInput)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	fixtures(t)
	h := catest.NewHierarchy(t, catest.WithLinter(fixLinter))
	tests := []struct {
		name   string
		change func(*ca.Config)
		field  string
	}{
		{"no hierarchy", func(c *ca.Config) { c.Hierarchy = nil }, "Config.Hierarchy"},
		{"no policy", func(c *ca.Config) { c.PolicyOID = nil }, "Config.PolicyOID"},
		{"http PDS", func(c *ca.Config) { c.PDS = []ca.PDSLocation{{URL: "http://x.example/pds", Language: "en"}} }, "Config.PDS[0].URL"},
		{"upper-case language", func(c *ca.Config) { c.PDS = []ca.PDSLocation{{URL: "https://x.example/pds", Language: "EN"}} }, "Config.PDS[0].Language"},
		{"no English PDS", func(c *ca.Config) { c.PDS = []ca.PDSLocation{{URL: "https://x.example/pds", Language: "it"}} }, "Config.PDS"},
		{"no CRL URL", func(c *ca.Config) { c.CRLURL = "" }, "Config.CRLURL"},
		{"relative OCSP URL", func(c *ca.Config) { c.OCSPURL = "/ocsp" }, "Config.OCSPURL"},
		{"negative retention", func(c *ca.Config) { c.RetentionYears = -1 }, "Config.RetentionYears"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := catest.IssuerConfig(h)
			tc.change(&cfg)
			_, err := ca.NewIssuer(cfg)
			require.ErrorIs(t, err, ca.ErrInvalidInput)
			fe, ok := errors.AsType[*ca.FieldError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
}

func TestExclusionsDocumented(t *testing.T) {
	t.Parallel()
	fixtures(t)
	names := fixLinter.LintNames()
	assert.Contains(t, names, "e_registra_natural_person_identifier")
	assert.Contains(t, names, "e_qcstatem_qcpds_valid")
	for _, n := range names {
		assert.NotRegexp(t, `^[ewn]_(cab|mp_|smime)`, n)
	}
	for _, e := range ca.Exclusions() {
		assert.NotEmpty(t, e.Reason, e.Lint)
		assert.NotEmpty(t, e.Citation, e.Lint)
		assert.NotContains(t, names, e.Lint)
	}
}
