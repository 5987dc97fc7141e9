// Package recognitiontest builds the real artefacts the recognition tests
// need: test certification authorities issuing qualified-looking signer
// certificates (QCStatements with QcCompliance, serialNumber TINIT-<tax
// code>), CRLs, CAdES .p7m files, and the evidence-sealing key. It is
// imported only from tests.
package recognitiontest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// Object identifiers of ETSI EN 319 412-5 and X.520.
var (
	OIDQCStatements  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3} // RFC 3739 id-pe-qcStatements
	OIDQcCompliance  = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}       // ETSI EN 319 412-5 §4.2.1
	OIDQcSSCD        = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 4}       // §4.2.2
	OIDQcType        = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6}       // §4.2.3
	OIDQcTypeESign   = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 1}
	OIDGivenName     = asn1.ObjectIdentifier{2, 5, 4, 42}
	OIDSurname       = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidSigningCertV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
)

// CA is a test certification authority.
type CA struct {
	Cert   *x509.Certificate
	Key    crypto.Signer
	Parent *CA // nil for a root

	mu     sync.Mutex
	serial int64
}

// NewRoot returns a self-signed root valid from notBefore to notAfter.
func NewRoot(t testing.TB, name string, notBefore, notAfter time.Time) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"registra test"}, Country: []string{"IT"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          ski(key.Public()),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("creating root: %v", err)
	}
	return &CA{Cert: parse(t, der), Key: key, serial: 1}
}

// NewIntermediate returns a CA issued by ca with the same validity.
func (ca *CA) NewIntermediate(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          ca.nextSerial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"registra test"}, Country: []string{"IT"}},
		NotBefore:             ca.Cert.NotBefore,
		NotAfter:              ca.Cert.NotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          ski(key.Public()),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatalf("creating intermediate: %v", err)
	}
	return &CA{Cert: parse(t, der), Key: key, Parent: ca, serial: 1}
}

// Chain returns ca's certificate and its parents up to, excluding, the root.
func (ca *CA) Chain() []*x509.Certificate {
	var out []*x509.Certificate
	for c := ca; c != nil && c.Parent != nil; c = c.Parent {
		out = append(out, c.Cert)
	}
	return out
}

// Root returns the root above ca (or ca itself).
func (ca *CA) Root() *x509.Certificate {
	c := ca
	for c.Parent != nil {
		c = c.Parent
	}
	return c.Cert
}

// Pool returns a pool with the root above ca.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Root())
	return p
}

func (ca *CA) nextSerial() *big.Int {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.serial++
	return big.NewInt(ca.serial)
}

// Person describes a signer certificate to issue.
type Person struct {
	GivenName string
	Surname   string
	TaxCode   string // serialNumber becomes TINIT-<TaxCode>; empty omits it
	// Qualified adds QCStatements with QcCompliance, QcSSCD and QcType
	// esign (ETSI EN 319 412-5).
	Qualified bool
	// NonRepudiation sets the contentCommitment key usage (with
	// digitalSignature). False gives digitalSignature only.
	NonRepudiation bool
	NotBefore      time.Time
	NotAfter       time.Time
	// CRLURL is written as the CRL distribution point, if set.
	CRLURL string
	// RSA makes an RSA-2048 key instead of P-256.
	RSA bool
}

// Issue issues a signer certificate for p and returns it with its key.
func (ca *CA) Issue(t testing.TB, p Person) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	var key crypto.Signer
	if p.RSA {
		key = newRSAKey(t)
	} else {
		key = newKey(t)
	}
	return ca.IssueFor(t, p, key.Public()), key
}

// IssueFor issues a signer certificate for p over a given public key.
func (ca *CA) IssueFor(t testing.TB, p Person, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	subject := pkix.Name{
		Country:    []string{"IT"},
		CommonName: p.GivenName + " " + p.Surname,
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: OIDGivenName, Value: p.GivenName},
			{Type: OIDSurname, Value: p.Surname},
		},
	}
	if p.TaxCode != "" {
		subject.SerialNumber = "TINIT-" + p.TaxCode
	}
	ku := x509.KeyUsageDigitalSignature
	if p.NonRepudiation {
		ku = x509.KeyUsageContentCommitment
	}
	tmpl := &x509.Certificate{
		SerialNumber:   ca.nextSerial(),
		Subject:        subject,
		NotBefore:      p.NotBefore,
		NotAfter:       p.NotAfter,
		KeyUsage:       ku,
		AuthorityKeyId: ca.Cert.SubjectKeyId,
	}
	if p.CRLURL != "" {
		tmpl.CRLDistributionPoints = []string{p.CRLURL}
	}
	if p.Qualified {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: OIDQCStatements, Value: QCStatements(t)})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		t.Fatalf("issuing signer: %v", err)
	}
	return parse(t, der)
}

// QCStatements returns the DER of a QCStatements extension value with
// QcCompliance, QcSSCD and QcType esign.
func QCStatements(t testing.TB) []byte {
	t.Helper()
	type statement struct {
		ID   asn1.ObjectIdentifier
		Info asn1.RawValue `asn1:"optional"`
	}
	qcType, err := asn1.Marshal([]asn1.ObjectIdentifier{OIDQcTypeESign})
	if err != nil {
		t.Fatal(err)
	}
	b, err := asn1.Marshal([]statement{
		{ID: OIDQcCompliance},
		{ID: OIDQcSSCD},
		{ID: OIDQcType, Info: asn1.RawValue{FullBytes: qcType}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// IssueEvidenceCert issues a certificate for the evidence-sealing key.
func (ca *CA) IssueEvidenceCert(t testing.TB) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: ca.nextSerial(),
		Subject:      pkix.Name{CommonName: "registra evidence seal", Organization: []string{"registra test"}, Country: []string{"IT"}},
		NotBefore:    ca.Cert.NotBefore,
		NotAfter:     ca.Cert.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatalf("issuing evidence certificate: %v", err)
	}
	return parse(t, der), key
}

// CRL returns a DER CRL of ca valid from thisUpdate to nextUpdate that
// lists the given certificates as revoked at revokedAt (reason key
// compromise).
func (ca *CA) CRL(t testing.TB, thisUpdate, nextUpdate, revokedAt time.Time, revoked ...*x509.Certificate) []byte {
	t.Helper()
	var entries []x509.RevocationListEntry
	for _, c := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: revokedAt, ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(thisUpdate.Unix()),
		ThisUpdate:                thisUpdate,
		NextUpdate:                nextUpdate,
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		t.Fatalf("creating CRL: %v", err)
	}
	return der
}

// SignOptions changes how [SignP7M] signs.
type SignOptions struct {
	// NoSigningCertificate omits the CAdES signing-certificate-v2 attribute.
	NoSigningCertificate bool
}

// SignP7M signs content as attached CMS SignedData (CAdES-BES: SHA-256,
// signing time, signing-certificate-v2) with cert and key, embedding chain.
func SignP7M(t testing.TB, content []byte, cert *x509.Certificate, key crypto.Signer, chain []*x509.Certificate, opts SignOptions) []byte {
	t.Helper()
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	var cfg pkcs7.SignerInfoConfig
	if !opts.NoSigningCertificate {
		h := sha256.Sum256(cert.Raw)
		type essCertIDv2 struct{ CertHash []byte }
		type signingCertificateV2 struct{ Certs []essCertIDv2 }
		cfg.ExtraSignedAttributes = []pkcs7.Attribute{{
			Type:  oidSigningCertV2,
			Value: signingCertificateV2{Certs: []essCertIDv2{{CertHash: h[:]}}},
		}}
	}
	if len(chain) == 0 {
		err = sd.AddSigner(cert, key, cfg)
	} else {
		err = sd.AddSignerChain(cert, key, chain, cfg)
	}
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// WritePEM writes certificates (and, if key is not nil, the PKCS#8 key)
// to files in dir and returns their paths: for openssl.
func WritePEM(t testing.TB, dir, name string, key crypto.Signer, certs ...*x509.Certificate) (certPath, keyPath string) {
	t.Helper()
	var buf []byte
	for _, c := range certs {
		buf = append(buf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	certPath = filepath.Join(dir, name+".pem")
	if err := os.WriteFile(certPath, buf, 0o600); err != nil {
		t.Fatal(err)
	}
	if key != nil {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		keyPath = filepath.Join(dir, name+".key")
		if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certPath, keyPath
}

// PDF returns a small but well-formed PDF document whose only page shows
// text; request forms and reports in tests are made with it.
func PDF(text string) []byte {
	// A minimal PDF 1.4: catalog, pages, one page, a content stream, font.
	stream := "BT /F1 12 Tf 72 720 Td (" + text + ") Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"<< /Length " + itoa(len(stream)) + " >>\nstream\n" + stream + "\nendstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	out := "%PDF-1.4\n"
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = len(out)
		out += itoa(i+1) + " 0 obj\n" + o + "\nendobj\n"
	}
	xref := len(out)
	out += "xref\n0 " + itoa(len(objs)+1) + "\n0000000000 65535 f \n"
	for _, off := range offsets {
		s := itoa(off)
		for len(s) < 10 {
			s = "0" + s
		}
		out += s + " 00000 n \n"
	}
	out += "trailer\n<< /Size " + itoa(len(objs)+1) + " /Root 1 0 R >>\nstartxref\n" + itoa(xref) + "\n%%EOF\n"
	return []byte(out)
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// JPEG returns the bytes of a tiny JPEG-signed image (SOI, APP0 JFIF, EOI):
// enough for type sniffing, not a decodable picture.
func JPEG(tag string) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00}
	b = append(b, []byte(tag)...)
	return append(b, 0xFF, 0xD9)
}

// PNG returns the PNG signature followed by tag: enough for sniffing.
func PNG(tag string) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n"), []byte(tag)...)
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ski(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(der)
	return h[:20]
}

func parse(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
