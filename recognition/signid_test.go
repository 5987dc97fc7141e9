package recognition_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/testutil"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// signIDFixture is a Sign ID world: a qualified CA, its CRL, signers of
// every kind the tests need, and a real clamd.
type signIDFixture struct {
	*pki
	applicant recognition.Applicant
	form      []byte
	crl       []byte
	clamd     *recognitiontest.Clamd
	scanner   *recognition.ClamAV
	good      signer
	revoked   signer
	expired   signer
	notQual   signer
	noNonRep  signer
	otherTax  signer
	otherName signer
	untrusted signer
	rsa       signer
}

type signer struct {
	cert  *x509.Certificate
	key   crypto.Signer
	chain []*x509.Certificate
}

func (s signer) sign(t testing.TB, content []byte) []byte {
	t.Helper()
	return recognitiontest.SignP7M(t, content, s.cert, s.key, s.chain, recognitiontest.SignOptions{})
}

func newSignIDFixture(t *testing.T) *signIDFixture {
	t.Helper()
	f := &signIDFixture{pki: newPKI(t), applicant: applicant(t)}
	f.form = recognitiontest.PDF("Request form of Nicolo Rossi")
	now := time.Now()
	person := func(edit func(*recognitiontest.Person)) recognitiontest.Person {
		p := recognitiontest.Person{
			GivenName: "NICOLO'", Surname: "ROSSI", TaxCode: f.applicant.TaxCode,
			Qualified: true, NonRepudiation: true,
			NotBefore: now.Add(-365 * 24 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		}
		if edit != nil {
			edit(&p)
		}
		return p
	}
	issue := func(ca *recognitiontest.CA, edit func(*recognitiontest.Person)) signer {
		c, k := ca.Issue(t, person(edit))
		return signer{cert: c, key: k, chain: ca.Chain()}
	}
	f.good = issue(f.issuing, nil)
	f.revoked = issue(f.issuing, nil)
	f.expired = issue(f.issuing, func(p *recognitiontest.Person) {
		p.NotBefore, p.NotAfter = now.Add(-2*365*24*time.Hour), now.Add(-24*time.Hour)
	})
	f.notQual = issue(f.issuing, func(p *recognitiontest.Person) { p.Qualified = false })
	f.noNonRep = issue(f.issuing, func(p *recognitiontest.Person) { p.NonRepudiation = false })
	f.otherTax = issue(f.issuing, func(p *recognitiontest.Person) {
		p.TaxCode = taxCodeOf(t, "Rossi", "Nicola", time.Date(1985, 12, 11, 0, 0, 0, 0, time.UTC), 1)
	})
	f.otherName = issue(f.issuing, func(p *recognitiontest.Person) { p.Surname = "RUSSO" })
	f.rsa = issue(f.issuing, func(p *recognitiontest.Person) { p.RSA = true })
	foreignRoot := recognitiontest.NewRoot(t, "Untrusted Root", now.Add(-time.Hour*24*365), now.Add(time.Hour*24*365))
	f.untrusted = issue(foreignRoot.NewIntermediate(t, "Untrusted CA"), nil)
	f.crl = f.issuing.CRL(t, now.Add(-time.Hour), now.Add(24*time.Hour), now.Add(-2*time.Hour), f.revoked.cert)
	f.clamd = recognitiontest.StartClamd(t)
	var err error
	f.scanner, err = recognition.NewClamAV(recognition.ClamAVConfig{Address: f.clamd.Socket})
	require.NoError(t, err)
	return f
}

func (f *signIDFixture) verifier(t testing.TB, edit func(*recognition.SignIDConfig)) *recognition.SignID {
	t.Helper()
	cfg := recognition.SignIDConfig{
		Roots:   f.root.Pool(),
		CRLs:    recognition.StaticCRLs{f.crl},
		Scanner: f.scanner,
	}
	if edit != nil {
		edit(&cfg)
	}
	v, err := recognition.NewSignID(cfg)
	require.NoError(t, err)
	return v
}

func (f *signIDFixture) submission(p7m []byte) recognition.Submission {
	return recognition.Submission{
		OrderID:   "ord-sign",
		Applicant: f.applicant,
		Operator:  operator(recognition.RoleRAO),
		Consents:  consents(),
		Uploads: append(documentUploads(),
			recognition.Upload{Kind: recognition.KindSignedForm, Name: "form.pdf.p7m", Data: p7m}),
	}
}

// openSSLSign signs content with openssl cms -sign -cades, as a foreign
// signing application would.
func openSSLSign(t *testing.T, s signer, content []byte, extra ...string) []byte {
	t.Helper()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	dir := t.TempDir()
	certPath, keyPath := recognitiontest.WritePEM(t, dir, "signer", s.key, s.cert)
	chainPath, _ := recognitiontest.WritePEM(t, dir, "chain", nil, s.chain...)
	in, out := filepath.Join(dir, "form.pdf"), filepath.Join(dir, "form.pdf.p7m")
	require.NoError(t, os.WriteFile(in, content, 0o600))
	args := []string{"cms", "-sign", "-cades", "-binary", "-nodetach", "-md", "sha256", "-outform", "DER",
		"-in", in, "-signer", certPath, "-inkey", keyPath, "-certfile", chainPath, "-out", out}
	testutil.Run(t, openssl, append(args, extra...)...)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	return b
}

func TestSignID(t *testing.T) {
	t.Parallel()
	f := newSignIDFixture(t)
	v := f.verifier(t, nil)
	assert.Equal(t, recognition.MethodSignID, v.Method())
	require.NoError(t, v.Available())

	good := f.good.sign(t, f.form)
	tampered := bytes.Clone(good)
	at := bytes.Index(tampered, []byte("Nicolo Rossi"))
	require.Positive(t, at)
	tampered[at] = 'M'

	t.Run("accepted", func(t *testing.T) {
		t.Parallel()
		streamed := openSSLSign(t, f.good, f.form, "-stream")
		require.Equal(t, []byte{0x30, 0x80}, streamed[:2], "openssl -stream writes an indefinite length")
		for name, p7m := range map[string][]byte{
			"pkcs7 signer":                             good,
			"openssl rsa signer":                       openSSLSign(t, f.rsa, f.form),
			"openssl ec signer":                        openSSLSign(t, f.good, f.form),
			"openssl streamed (indefinite-length BER)": streamed,
		} {
			ev, err := v.Verify(context.Background(), f.submission(p7m))
			require.NoError(t, err, name)
			m := ev.Manifest
			assert.True(t, m.Passed(), name)
			var names []string
			for _, c := range m.Checks {
				names = append(names, string(c.Name))
			}
			for _, want := range []recognition.CheckName{
				recognition.CheckSignature, recognition.CheckSigningCertificate, recognition.CheckChain,
				recognition.CheckValidity, recognition.CheckSigningTime, recognition.CheckRevocation,
				recognition.CheckQualified, recognition.CheckKeyUsage, recognition.CheckTaxCode,
				recognition.CheckPersonName, recognition.CheckContent, recognition.CheckAntivirus,
			} {
				assert.Contains(t, names, string(want), name)
			}
			crl, ok := ev.Artefact(recognition.KindRevocationList)
			require.True(t, ok, name)
			assert.Equal(t, f.crl, crl)
			signed, ok := ev.Artefact(recognition.KindSignedForm)
			require.True(t, ok)
			assert.Equal(t, p7m, signed)
			assert.Contains(t, m.Attributes["signer_subject"], "TINIT-"+f.applicant.TaxCode)

			sealed, err := f.sealer.Seal(context.Background(), &ev)
			require.NoError(t, err)
			_, err = recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: f.root.Pool()})
			require.NoError(t, err)
		}
	})

	cases := []struct {
		name   string
		p7m    []byte
		kinds  []error
		checks []recognition.CheckName
	}{
		{"tampered file", tampered, []error{recognition.ErrSignature}, []recognition.CheckName{recognition.CheckSignature}},
		{"expired signer", f.expired.sign(t, f.form), []error{recognition.ErrValidity, recognition.ErrSigningTime},
			[]recognition.CheckName{recognition.CheckValidity, recognition.CheckSigningTime}},
		{"revoked signer", f.revoked.sign(t, f.form), []error{recognition.ErrRevoked}, []recognition.CheckName{recognition.CheckRevocation}},
		{"non-qualified signer", f.notQual.sign(t, f.form), []error{recognition.ErrNotQualified}, []recognition.CheckName{recognition.CheckQualified}},
		{"no nonRepudiation", f.noNonRep.sign(t, f.form), []error{recognition.ErrNotQualified}, []recognition.CheckName{recognition.CheckKeyUsage}},
		{"tax-code mismatch", f.otherTax.sign(t, f.form), []error{recognition.ErrIdentityMismatch}, []recognition.CheckName{recognition.CheckTaxCode}},
		{"name mismatch", f.otherName.sign(t, f.form), []error{recognition.ErrIdentityMismatch}, []recognition.CheckName{recognition.CheckPersonName}},
		{"infected file", f.good.sign(t, recognitiontest.EICAR()), []error{recognition.ErrInfected, recognition.ErrFormat},
			[]recognition.CheckName{recognition.CheckContent, recognition.CheckAntivirus}},
		{"untrusted chain", f.untrusted.sign(t, f.form), []error{recognition.ErrChain, recognition.ErrRevoked},
			[]recognition.CheckName{recognition.CheckChain, recognition.CheckRevocation}},
		{"no signing-certificate attribute", recognitiontest.SignP7M(t, f.form, f.good.cert, f.good.key, f.good.chain, recognitiontest.SignOptions{NoSigningCertificate: true}),
			[]error{recognition.ErrSignature}, []recognition.CheckName{recognition.CheckSigningCertificate}},
		{"several at once", f.otherName.sign(t, recognitiontest.EICAR()), []error{recognition.ErrIdentityMismatch, recognition.ErrInfected},
			[]recognition.CheckName{recognition.CheckPersonName, recognition.CheckContent, recognition.CheckAntivirus}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := v.Verify(context.Background(), f.submission(tc.p7m))
			require.Error(t, err)
			assert.Zero(t, ev)
			assert.ErrorIs(t, err, recognition.ErrVerification)
			for _, k := range tc.kinds {
				assert.ErrorIs(t, err, k)
			}
			ve, ok := errorsAs[*recognition.VerificationError](err)
			require.True(t, ok)
			assert.ElementsMatch(t, tc.checks, ve.Checks())
		})
	}

	t.Run("infected error names the threat", func(t *testing.T) {
		t.Parallel()
		_, err := v.Verify(context.Background(), f.submission(f.good.sign(t, recognitiontest.EICAR())))
		ie, ok := errorsAs[*recognition.InfectedError](err)
		require.True(t, ok)
		assert.Equal(t, f.clamd.Threat, ie.Threat)
		assert.Equal(t, "clamd", ie.Engine)
	})
	t.Run("stale signature", func(t *testing.T) {
		t.Parallel()
		later := f.verifier(t, func(c *recognition.SignIDConfig) {
			c.Now = clock(time.Now().Add(40 * 24 * time.Hour))
			c.CRLs = recognition.StaticCRLs{f.issuing.CRL(t, time.Now(), time.Now().Add(60*24*time.Hour), time.Now())}
		})
		_, err := later.Verify(context.Background(), f.submission(good))
		ve, ok := errorsAs[*recognition.VerificationError](err)
		require.True(t, ok)
		assert.Equal(t, []recognition.CheckName{recognition.CheckSigningTime}, ve.Checks())
	})
	t.Run("crl expired or missing", func(t *testing.T) {
		t.Parallel()
		for name, crls := range map[string]recognition.StaticCRLs{
			"expired": {f.issuing.CRL(t, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour), time.Now())},
			"missing": nil,
			"forged":  {f.issuing.NewIntermediate(t, f.issuing.Cert.Subject.CommonName).CRL(t, time.Now(), time.Now().Add(time.Hour), time.Now())},
		} {
			w := f.verifier(t, func(c *recognition.SignIDConfig) { c.CRLs = crls })
			_, err := w.Verify(context.Background(), f.submission(good))
			assert.ErrorIs(t, err, recognition.ErrRevoked, name)
		}
	})
	t.Run("crl from the distribution point", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/issuing.crl" {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write(f.crl)
		}))
		defer srv.Close()
		now := time.Now()
		c, k := f.issuing.Issue(t, recognitiontest.Person{
			GivenName: "Nicolò", Surname: "Rossi", TaxCode: f.applicant.TaxCode, Qualified: true, NonRepudiation: true,
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), CRLURL: srv.URL + "/issuing.crl",
		})
		w := f.verifier(t, func(cfg *recognition.SignIDConfig) { cfg.CRLs = recognition.HTTPCRLs{Client: srv.Client()} })
		p7m := signer{cert: c, key: k, chain: f.issuing.Chain()}.sign(t, f.form)
		_, err := w.Verify(context.Background(), f.submission(p7m))
		require.NoError(t, err)
		_, err = w.Verify(context.Background(), f.submission(f.revoked.sign(t, f.form)))
		assert.ErrorIs(t, err, recognition.ErrRevoked, "no distribution point in this certificate")
	})
	t.Run("no scanner", func(t *testing.T) {
		t.Parallel()
		w := f.verifier(t, func(c *recognition.SignIDConfig) { c.Scanner = nil })
		require.ErrorIs(t, w.Available(), recognition.ErrScannerUnavailable)
		_, err := w.Verify(context.Background(), f.submission(good))
		assert.ErrorIs(t, err, recognition.ErrScannerUnavailable)
		assert.EqualError(t, err, "recognition: antivirus: sign id is unavailable: no antivirus scanner is configured")
	})
	t.Run("scanner down", func(t *testing.T) {
		t.Parallel()
		down, err := recognition.NewClamAV(recognition.ClamAVConfig{Address: filepath.Join(t.TempDir(), "none.sock")})
		require.NoError(t, err)
		w := f.verifier(t, func(c *recognition.SignIDConfig) { c.Scanner = down })
		_, err = w.Verify(context.Background(), f.submission(good))
		assert.ErrorIs(t, err, recognition.ErrScannerUnavailable)
		assert.NotErrorIs(t, err, recognition.ErrInfected)
	})
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		s := f.submission(good)
		s.Uploads = s.Uploads[:2]
		_, err := v.Verify(context.Background(), s)
		assert.ErrorIs(t, err, recognition.ErrInvalidInput)
		s = f.submission([]byte("%PDF-1.4 not signed"))
		_, err = v.Verify(context.Background(), s)
		assert.ErrorIs(t, err, recognition.ErrInvalidInput)
		s = f.submission(good)
		s.Operator.Role = recognition.RoleOperator
		_, err = v.Verify(context.Background(), s)
		assert.ErrorIs(t, err, recognition.ErrInvalidInput)
	})
	t.Run("malformed p7m", func(t *testing.T) {
		t.Parallel()
		_, err := v.Verify(context.Background(), f.submission(good[:len(good)/2]))
		assert.ErrorIs(t, err, recognition.ErrFormat)
	})
}

func TestSignIDConfigValidate(t *testing.T) {
	t.Parallel()
	_, err := recognition.NewSignID(recognition.SignIDConfig{MaxClockSkew: -1})
	assert.EqualError(t, err, "recognition: invalid input: roots: is required; crls: is required; max_clock_skew: must not be negative")
}

func TestClamAV(t *testing.T) {
	t.Parallel()
	d := recognitiontest.StartClamd(t)
	c, err := recognition.NewClamAV(recognition.ClamAVConfig{Address: d.Socket, ChunkSize: 7})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, c.Ping(ctx))

	res, err := c.Scan(ctx, bytes.NewReader(recognitiontest.PDF("clean")))
	require.NoError(t, err)
	assert.Equal(t, recognition.ScanResult{Clean: true, Engine: "clamd"}, res)

	res, err = c.Scan(ctx, bytes.NewReader(recognitiontest.EICAR()))
	require.NoError(t, err)
	assert.Equal(t, recognition.ScanResult{Clean: false, Threat: d.Threat, Engine: "clamd"}, res)

	res, err = c.Scan(ctx, strings.NewReader(strings.Repeat("abc", 100000)))
	require.NoError(t, err)
	assert.True(t, res.Clean)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Scan(cancelled, bytes.NewReader([]byte("x")))
	assert.ErrorIs(t, err, recognition.ErrScannerUnavailable)
}

func TestParseClamdReply(t *testing.T) {
	t.Parallel()
	cases := []struct {
		reply   string
		want    recognition.ScanResult
		wantErr error
	}{
		{"stream: OK", recognition.ScanResult{Clean: true, Engine: "clamd"}, nil},
		{"stream: OK\x00", recognition.ScanResult{Clean: true, Engine: "clamd"}, nil},
		{"stream: Eicar-Test-Signature FOUND", recognition.ScanResult{Threat: "Eicar-Test-Signature", Engine: "clamd"}, nil},
		{"1: stream: Win.Test.EICAR_HDB-1 FOUND", recognition.ScanResult{Threat: "Win.Test.EICAR_HDB-1", Engine: "clamd"}, nil},
		{"INSTREAM size limit exceeded. ERROR", recognition.ScanResult{}, recognition.ErrScannerUnavailable},
		{"stream:  FOUND", recognition.ScanResult{}, recognition.ErrScannerUnavailable},
		{"", recognition.ScanResult{}, recognition.ErrScannerUnavailable},
		{"PONG", recognition.ScanResult{}, recognition.ErrScannerUnavailable},
	}
	for _, tc := range cases {
		got, err := recognition.ParseClamdReply(tc.reply)
		if tc.wantErr != nil {
			assert.ErrorIs(t, err, tc.wantErr, tc.reply)
			continue
		}
		require.NoError(t, err, tc.reply)
		assert.Equal(t, tc.want, got, tc.reply)
	}
}

func TestNoScanner(t *testing.T) {
	t.Parallel()
	_, err := recognition.NoScanner{}.Scan(context.Background(), strings.NewReader("x"))
	assert.ErrorIs(t, err, recognition.ErrScannerUnavailable)
}
