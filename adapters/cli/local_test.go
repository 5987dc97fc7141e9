package cli_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/adapters/cli"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// writeFile writes b to a new file in a temporary directory.
func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

func TestInit(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	pw := writeFile(t, "pw", []byte("a long admin password 42\n"))
	r := run(t, cli.Config{}, "", "init", "--data", dir, "--algorithm", "ecdsa-p384", "--ca-org", "Example QTSP",
		"--org", "ACME", "--admin", "boss", "--admin-password-file", pw, "--json")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	var res struct {
		KeyAlgorithm string `json:"key_algorithm"`
		Certificates []struct {
			Role, Subject string
		} `json:"certificates"`
		BootstrapFile string `json:"bootstrap_file"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
	assert.Equal(t, "ECDSA-P384", res.KeyAlgorithm)
	require.Len(t, res.Certificates, 3)
	assert.Equal(t, "CN=Example QTSP Root CA,O=Example QTSP,C=IT", res.Certificates[0].Subject)

	root, err := os.ReadFile(filepath.Join(dir, "ca", ca.RootFile))
	require.NoError(t, err)
	blk, _ := pem.Decode(root)
	require.NotNil(t, blk)
	cert, err := x509.ParseCertificate(blk.Bytes)
	require.NoError(t, err)
	assert.Equal(t, elliptic.P384(), cert.PublicKey.(*ecdsa.PublicKey).Curve)

	st, err := os.Stat(res.BootstrapFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	var creds struct {
		Username, Password string
		TOTPSecret         string `json:"totp_secret"`
	}
	b, err := os.ReadFile(res.BootstrapFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &creds))
	assert.Equal(t, "boss", creds.Username)
	assert.Equal(t, "a long admin password 42", creds.Password)
	assert.Len(t, creds.TOTPSecret, 32)

	// A second init refuses and changes nothing.
	r = run(t, cli.Config{}, "", "init", "--data", dir)
	assert.Equal(t, cli.ExitRefused, r.code)
	assert.Contains(t, r.stderr, "never overwrites")
	after, err := os.ReadFile(filepath.Join(dir, "ca", ca.RootFile))
	require.NoError(t, err)
	assert.Equal(t, root, after)
	b2, err := os.ReadFile(res.BootstrapFile)
	require.NoError(t, err)
	assert.Equal(t, b, b2)
}

// testCRL makes a CRL signed by a new CA: two key compromises, one hold,
// and, for a delta CRL, a removeFromCRL.
func testCRL(t *testing.T, delta bool) (der []byte, issuer *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Issuing CA", Organization: []string{"registra"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCRLSign | x509.KeyUsageCertSign}
	cd, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	issuer, err = x509.ParseCertificate(cd)
	require.NoError(t, err)
	entries := []x509.RevocationListEntry{
		{SerialNumber: big.NewInt(0x1001), RevocationTime: now.Add(-3 * time.Hour), ReasonCode: 1},
		{SerialNumber: big.NewInt(0x1002), RevocationTime: now.Add(-2 * time.Hour), ReasonCode: 1},
		{SerialNumber: big.NewInt(0x1003), RevocationTime: now.Add(-time.Hour), ReasonCode: 6},
	}
	rl := &x509.RevocationList{Number: big.NewInt(42), ThisUpdate: now, NextUpdate: now.Add(24 * time.Hour), RevokedCertificateEntries: entries}
	if delta {
		rl.RevokedCertificateEntries = append(rl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: big.NewInt(0x1004), RevocationTime: now.Add(-time.Hour), ReasonCode: 8})
		base, err := asn1.Marshal(big.NewInt(40))
		require.NoError(t, err)
		// deltaCRLIndicator, RFC 5280 §5.2.4.
		rl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 27}, Critical: true, Value: base}}
	}
	der, err = x509.CreateRevocationList(rand.Reader, rl, issuer, key)
	require.NoError(t, err)
	return der, issuer
}

func TestCRLShow(t *testing.T) {
	t.Parallel()
	der, issuer := testCRL(t, false)
	file := writeFile(t, "issuing.crl", der)
	issuerFile := writeFile(t, "issuing.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuer.Raw}))

	r := run(t, cli.Config{}, "", "crl", "show", file, "--issuer", issuerFile)
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	for _, want := range []string{"full CRL", "CN=Test Issuing CA,O=registra", "42", "2026-12-03 08:00:00Z", "2026-12-04 08:00:00Z",
		"keyCompromise", "certificateHold", "verified"} {
		assert.Contains(t, r.stdout, want)
	}

	pemFile := writeFile(t, "issuing.pem.crl", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
	r = run(t, cli.Config{}, "", "crl", "show", pemFile, "--json", "--entries")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	var s struct {
		Number     string `json:"number"`
		DeltaBase  string `json:"delta_base"`
		ThisUpdate string `json:"this_update"`
		Entries    int    `json:"entries"`
		ByReason   []struct {
			Code   int    `json:"code"`
			Reason string `json:"reason"`
			Count  int    `json:"count"`
		} `json:"by_reason"`
		Listed []struct {
			Serial string `json:"serial"`
		} `json:"listed"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &s))
	assert.Equal(t, "42", s.Number)
	assert.Empty(t, s.DeltaBase)
	assert.Equal(t, 3, s.Entries)
	require.Len(t, s.ByReason, 2)
	assert.Equal(t, 1, s.ByReason[0].Code)
	assert.Equal(t, 2, s.ByReason[0].Count)
	assert.Equal(t, 6, s.ByReason[1].Code)
	require.Len(t, s.Listed, 3)
	assert.Equal(t, "1001", s.Listed[0].Serial)

	// A delta CRL from an URL.
	deltaDER, _ := testCRL(t, true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/crl/issuing-delta.crl" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(deltaDER)
	}))
	defer srv.Close()
	r = run(t, cli.Config{}, "", "crl", "show", srv.URL+"/crl/issuing-delta.crl")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "delta CRL (base 40)")
	assert.Contains(t, r.stdout, "removeFromCRL")

	// Failures: a signature from another CA, a missing CRL, no server.
	r = run(t, cli.Config{}, "", "crl", "show", srv.URL+"/crl/issuing-delta.crl", "--issuer", issuerFile)
	assert.Equal(t, cli.ExitRefused, r.code)
	assert.Contains(t, r.stderr, "signature does not verify")
	r = run(t, cli.Config{}, "", "crl", "show", srv.URL+"/crl/missing.crl")
	assert.Equal(t, cli.ExitRefused, r.code)
	assert.Contains(t, r.stderr, "(404)")
	r = run(t, cli.Config{}, "", "crl", "show", writeFile(t, "junk.crl", []byte("not a CRL")))
	assert.Equal(t, cli.ExitRefused, r.code)
	assert.Contains(t, r.stderr, "not a CRL")
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	r = run(t, cli.Config{}, "", "crl", "show", dead.URL+"/crl/issuing.crl")
	assert.Equal(t, cli.ExitUnreachable, r.code, r.stderr)
	assert.Contains(t, r.stderr, "cannot reach")
}

func TestEnvelopeOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	codes, err := envelope.RemoteSignature.Generate(rand.Reader)
	require.NoError(t, err)
	const pass = "correct-horse-battery"
	cms, err := envelope.NewCMS(envelope.CMSConfig{Iterations: envelope.MinIterations})
	require.NoError(t, err)
	p7m, err := cms.Seal(ctx, codes, pass)
	require.NoError(t, err)
	pdf, err := envelope.NewPDF(envelope.PDFConfig{})
	require.NoError(t, err)
	pdfEnv, err := pdf.Seal(ctx, codes, pass)
	require.NoError(t, err)
	passFile := writeFile(t, "pass", []byte(pass+"\n"))

	for name, data := range map[string][]byte{"codes.p7m": p7m.Data, "codes.pdf": pdfEnv.Data} {
		file := writeFile(t, name, data)
		r := run(t, cli.Config{}, "", "envelope", "open", file, "--passphrase-file", passFile, "--json")
		require.Equal(t, cli.ExitOK, r.code, "%s: %s", name, r.stderr)
		var got []struct{ Name, Code string }
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
		require.Len(t, got, len(codes), name)
		for i, c := range codes {
			assert.Equal(t, string(c.Name), got[i].Name)
			assert.Equal(t, string(c.Code), got[i].Code)
		}

		// The passphrase from standard input; a table for people.
		r = run(t, cli.Config{}, pass+"\n", "envelope", "open", file, "--passphrase-file", "-")
		require.Equal(t, cli.ExitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, string(codes[0].Code))

		r = run(t, cli.Config{}, "wrong-horse-battery\n", "envelope", "open", file)
		assert.Equal(t, cli.ExitRefused, r.code, name)
		assert.Contains(t, r.stderr, "passphrase")
		assert.Empty(t, r.stdout)
	}
}

func TestEvidenceVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	evca := recognitiontest.NewRoot(t, "Evidence CA", now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))
	cert, key := evca.IssueEvidenceCert(t)
	sealer, err := recognition.NewSealer(recognition.SealerConfig{Certificate: cert, Key: key})
	require.NoError(t, err)
	v, err := recognition.NewOffline(recognition.OfflineConfig{})
	require.NoError(t, err)
	ev, err := v.Verify(ctx, recognition.Submission{OrderID: "order-1",
		Applicant: recognition.Applicant{TaxCode: "RSSMRA80A01H501U", GivenName: "Mario", Surname: "Rossi"},
		Operator:  recognition.Operator{ID: "rao1", Name: "Anna", Role: recognition.RoleRAO, Org: "DEMO", Unit: "main"},
		Consents:  []recognition.Consent{{Name: recognition.ConsentPrivacy, Given: true}},
		Uploads: []recognition.Upload{
			{Kind: recognition.KindDocumentFront, Name: "front.jpg", Data: recognitiontest.JPEG("front")},
			{Kind: recognition.KindDocumentBack, Name: "back.png", Data: recognitiontest.PNG("back")},
			{Kind: recognition.KindSignedPaperForm, Name: "form.pdf", Data: recognitiontest.PDF("form")},
			{Kind: recognition.KindReport, Name: "report.pdf", Data: recognitiontest.PDF("report")},
		}})
	require.NoError(t, err)
	sealed, err := sealer.Seal(ctx, &ev)
	require.NoError(t, err)
	b, err := sealed.MarshalBinary()
	require.NoError(t, err)
	bundle := writeFile(t, "bundle.bin", b)
	roots := writeFile(t, "roots.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: evca.Root().Raw}))

	r := run(t, cli.Config{}, "", "evidence", "verify", bundle, "--roots", roots)
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	for _, want := range []string{"evidence bundle verified", "offline", "order-1", "Mario Rossi RSSMRA80A01H501U", "signed_paper_form"} {
		assert.Contains(t, r.stdout, want)
	}

	// Another root: the chain check fails, and says so.
	other := recognitiontest.NewRoot(t, "Other CA", now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))
	otherRoots := writeFile(t, "other.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Root().Raw}))
	r = run(t, cli.Config{}, "", "evidence", "verify", bundle, "--roots", otherRoots, "--json")
	assert.Equal(t, cli.ExitRefused, r.code)
	var rep struct {
		Verified bool     `json:"verified"`
		Failed   []string `json:"failed"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	assert.False(t, rep.Verified)
	assert.NotEmpty(t, rep.Failed)

	// A changed artefact byte fails it too.
	for d, a := range sealed.Artefacts {
		a = append([]byte(nil), a...)
		a[len(a)-1] ^= 1
		sealed.Artefacts[d] = a
		break
	}
	b, err = sealed.MarshalBinary()
	require.NoError(t, err)
	r = run(t, cli.Config{}, "", "evidence", "verify", writeFile(t, "bad.bin", b), "--roots", roots)
	assert.Equal(t, cli.ExitRefused, r.code)
	assert.Contains(t, r.stdout, "does NOT verify")
}
