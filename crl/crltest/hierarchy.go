package crltest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/registra-pki/registra/crl"
)

// KeyAlgorithm names the key type of the whole hierarchy.
type KeyAlgorithm string

// Key algorithms. Ed25519 keys are derived from fixed seeds, so that CRLs
// and certificates signed with them are byte-for-byte reproducible (golden
// files); ECDSA and RSA keys are random.
const (
	Ed25519   KeyAlgorithm = "ed25519"
	ECDSAP256 KeyAlgorithm = "ecdsa-p256"
	RSA2048   KeyAlgorithm = "rsa-2048"
)

// Default URLs the leaf certificates name.
const (
	CRLURL      = "http://crl.registra.test/issuing.crl"
	DeltaCRLURL = "http://crl.registra.test/issuing-delta.crl"
	OCSPURL     = "http://ocsp.registra.test/"
)

// Epoch is the NotBefore of the hierarchy; certificates are valid ten
// years from it.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Option configures [NewHierarchy].
type Option func(*options)

type options struct{ alg KeyAlgorithm }

// WithKeyAlgorithm sets the key type (default ECDSA P-256).
func WithKeyAlgorithm(a KeyAlgorithm) Option { return func(o *options) { o.alg = a } }

// Hierarchy is root → issuing CA → (delegated OCSP signer, leaves).
type Hierarchy struct {
	Root, Issuing, OCSP          *x509.Certificate
	RootKey, IssuingKey, OCSPKey crypto.Signer
	alg                          KeyAlgorithm
}

// NewHierarchy makes a fresh hierarchy.
func NewHierarchy(t testing.TB, opts ...Option) *Hierarchy {
	t.Helper()
	o := options{alg: ECDSAP256}
	for _, f := range opts {
		f(&o)
	}
	h := &Hierarchy{alg: o.alg}
	h.RootKey = newKey(t, o.alg, "root")
	h.IssuingKey = newKey(t, o.alg, "issuing")
	h.OCSPKey = newKey(t, o.alg, "ocsp")
	notAfter := Epoch.AddDate(10, 0, 0)
	h.Root = h.sign(t, &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{Country: []string{"IT"}, Organization: []string{"Registra Test"}, CommonName: "Registra Test Root"},
		NotBefore: Epoch, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: ski(h.RootKey.Public()),
	}, nil, h.RootKey, h.RootKey.Public())
	h.Issuing = h.sign(t, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{Country: []string{"IT"}, Organization: []string{"Registra Test"}, CommonName: "Registra Test Issuing CA"},
		NotBefore: Epoch, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: ski(h.IssuingKey.Public()),
	}, h.Root, h.RootKey, h.IssuingKey.Public())
	h.OCSP = h.sign(t, &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{Country: []string{"IT"}, Organization: []string{"Registra Test"}, CommonName: "Registra Test OCSP Responder"},
		NotBefore: Epoch, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		SubjectKeyId: ski(h.OCSPKey.Public()),
		// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): NULL.
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}, Value: []byte{0x05, 0x00}}},
	}, h.Issuing, h.IssuingKey, h.OCSPKey.Public())
	return h
}

// CRLSigner returns the issuing CA as a [crl.Signer].
func (h *Hierarchy) CRLSigner() crl.KeySigner {
	return crl.KeySigner{Cert: h.Issuing, Key: h.IssuingKey}
}

// OCSPSigner returns the delegated OCSP responder as a [crl.Signer].
func (h *Hierarchy) OCSPSigner() crl.KeySigner { return crl.KeySigner{Cert: h.OCSP, Key: h.OCSPKey} }

// Leaf issues an end-entity certificate with the given serial, valid from
// notBefore for one year, naming [CRLURL] and [OCSPURL].
func (h *Hierarchy) Leaf(t testing.TB, serial *big.Int, notBefore time.Time) *x509.Certificate {
	t.Helper()
	key := newKey(t, h.alg, "leaf-"+serial.String())
	return h.sign(t, &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{Country: []string{"IT"}, CommonName: "Leaf " + serial.String()},
		NotBefore: notBefore, NotAfter: notBefore.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		CRLDistributionPoints: []string{CRLURL}, OCSPServer: []string{OCSPURL},
	}, h.Issuing, h.IssuingKey, key.Public())
}

// WritePEM writes cert as PEM into dir/name and returns the path.
func WritePEM(t testing.TB, dir, name string, certs ...*x509.Certificate) string {
	t.Helper()
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// WriteCRLPEM writes a DER CRL as PEM into dir/name and returns the path.
func WriteCRLPEM(t testing.TB, dir, name string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (h *Hierarchy) sign(t testing.TB, tmpl, parent *x509.Certificate, key crypto.Signer, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newKey(t testing.TB, alg KeyAlgorithm, label string) crypto.Signer {
	t.Helper()
	switch alg {
	case Ed25519:
		seed := sha256.Sum256([]byte("registra crltest " + label))
		return ed25519.NewKeyFromSeed(seed[:])
	case RSA2048:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return k
	default:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
}

// ski is the RFC 5280 §4.2.1.2 method (1) key identifier.
func ski(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		panic(err)
	}
	s := sha1.Sum(spki.Key.Bytes)
	return s[:]
}
