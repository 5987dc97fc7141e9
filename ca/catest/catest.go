// Package catest builds CA hierarchies and issuers for other packages'
// tests (Boulder's sa/satest habit). Import it only from _test.go files.
//
//	h := catest.NewHierarchy(t)                       // software ECDSA P-256, in t.TempDir()
//	iss := catest.NewIssuer(t, catest.WithKeyAlgorithm(ca.RSA3072))
//	cert := catest.IssueQualified(t, iss)
package catest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"testing"
	"time"

	kmsapi "go.step.sm/crypto/kms/apiv1"

	"github.com/registra-pki/registra/ca"
)

// PolicyOID is the example CA policy, under the IANA private enterprise
// number 32473 reserved for documentation (RFC 5612).
var PolicyOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 1, 1}

// BaseURL is the host of every URL in test certificates.
const BaseURL = "https://pki.registra.example"

type options struct {
	dir      string
	alg      ca.KeyAlgorithm
	km       kmsapi.KeyManager
	names    ca.KeyNames
	now      func() time.Time
	linter   *ca.Linter
	password ca.Password
}

// Option changes what [NewHierarchy] and [NewIssuer] build.
type Option func(*options)

// WithKeyAlgorithm selects the hierarchy's key algorithm (default ECDSA
// P-256).
func WithKeyAlgorithm(a ca.KeyAlgorithm) Option { return func(o *options) { o.alg = a } }

// WithKeyManager holds the keys in km under the given names (default:
// software keys).
func WithKeyManager(km kmsapi.KeyManager, names ca.KeyNames) Option {
	return func(o *options) { o.km, o.names = km, names }
}

// WithDir uses dir as the data directory instead of a new t.TempDir().
func WithDir(dir string) Option { return func(o *options) { o.dir = dir } }

// WithNow sets the clock of the hierarchy and the issuer.
func WithNow(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLinter shares a linter (building one takes a few milliseconds).
func WithLinter(l *ca.Linter) Option { return func(o *options) { o.linter = l } }

// WithKeyPassword encrypts the software keys.
func WithKeyPassword(pw ca.Password) Option { return func(o *options) { o.password = pw } }

func build(t testing.TB, opts []Option) options {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	return o
}

// HierarchyConfig returns the configuration NewHierarchy uses for dir.
func HierarchyConfig(dir string) ca.HierarchyConfig {
	return ca.HierarchyConfig{
		Dir:                    dir,
		Organization:           "Registra Test Trust Service",
		OrganizationIdentifier: "VATIT-00000000000",
		RootCRLURL:             "http://crl.registra.example/root.crl",
		RootCertURL:            "http://crl.registra.example/root.cer",
		IssuingCertURL:         "http://crl.registra.example/issuing.cer",
	}
}

// NewHierarchy creates a hierarchy in a temporary directory (or the one of
// [WithDir]) and fails the test on error.
func NewHierarchy(t testing.TB, opts ...Option) *ca.Hierarchy {
	t.Helper()
	o := build(t, opts)
	return newHierarchy(t, o)
}

func newHierarchy(t testing.TB, o options) *ca.Hierarchy {
	t.Helper()
	cfg := HierarchyConfig(o.dir)
	cfg.KeyAlgorithm = o.alg
	cfg.KeyManager = o.km
	cfg.KeyNames = o.names
	cfg.Now = o.now
	cfg.Linter = o.linter
	cfg.KeyPassword = o.password
	h, err := ca.OpenHierarchy(context.Background(), cfg)
	if err != nil {
		t.Fatalf("catest: opening hierarchy: %v", err)
	}
	return h
}

// IssuerConfig returns an issuer configuration for h with example URLs.
func IssuerConfig(h *ca.Hierarchy) ca.Config {
	return ca.Config{
		Hierarchy:    h,
		PolicyOID:    PolicyOID,
		CPSURL:       BaseURL + "/cps",
		PDS:          []ca.PDSLocation{{URL: BaseURL + "/pds/en.pdf", Language: "en"}, {URL: BaseURL + "/pds/it.pdf", Language: "it"}},
		CRLURL:       "http://crl.registra.example/issuing.crl",
		OCSPURL:      "http://ocsp.registra.example",
		CAIssuersURL: "http://crl.registra.example/issuing.cer",
	}
}

// NewIssuer creates a hierarchy as [NewHierarchy] does and an issuer on it.
func NewIssuer(t testing.TB, opts ...Option) *ca.Issuer {
	t.Helper()
	o := build(t, opts)
	h := newHierarchy(t, o)
	cfg := IssuerConfig(h)
	cfg.Now = o.now
	cfg.Linter = o.linter
	iss, err := ca.NewIssuer(cfg)
	if err != nil {
		t.Fatalf("catest: creating issuer: %v", err)
	}
	return iss
}

// Holder returns the textbook holder Mario Rossi (RSSMRA85T10A562S), an
// invented person.
func Holder() ca.Holder {
	return ca.Holder{
		TaxCode:   "RSSMRA85T10A562S",
		GivenName: "Mario",
		Surname:   "Rossi",
		IUT:       "IUT-0000000001",
	}
}

// RoleHolder returns [Holder] with role data.
func RoleHolder() ca.Holder {
	h := Holder()
	h.Organization = "Example Partner S.p.A."
	h.OrganizationIdentifier = "VATIT-12345678901"
	h.Title = "Registration Authority Officer"
	return h
}

// Key returns a new ECDSA P-256 key.
func Key(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("catest: generating key: %v", err)
	}
	return k
}

// CSR returns a DER PKCS #10 request signed by key.
func CSR(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatalf("catest: creating CSR: %v", err)
	}
	return der
}

// Issue issues a certificate of profile p for [Holder] (or a service
// request for service profiles) with a new key, and fails the test on error.
func Issue(t testing.TB, iss *ca.Issuer, p ca.Profile) *ca.Issued {
	t.Helper()
	req := ca.Request{Profile: p, PublicKey: Key(t).Public()}
	switch p.Subject {
	case ca.RoleSubject:
		req.Holder = RoleHolder()
	case ca.ServiceSubject:
		req.CommonName = "registra.example"
		if p.DNSNames {
			req.DNSNames = []string{"registra.example", "localhost"}
		}
	default:
		req.Holder = Holder()
	}
	is, err := iss.Issue(context.Background(), req)
	if err != nil {
		t.Fatalf("catest: issuing %s: %v", p.Name, err)
	}
	return is
}

// IssueQualified issues a [ca.QualifiedNaturalPerson] certificate.
func IssueQualified(t testing.TB, iss *ca.Issuer) *ca.Issued {
	t.Helper()
	return Issue(t, iss, ca.QualifiedNaturalPerson)
}
