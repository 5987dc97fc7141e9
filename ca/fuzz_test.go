package ca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/ca/catest"
	"github.com/registra-pki/registra/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files and fuzz seed corpora in testdata")

// FuzzParseCSR feeds arbitrary bytes to the CSR intake: ParseCSR must never
// panic, must refuse with ErrInvalidInput, and whatever it accepts has a
// valid self-signature and an allowed key, and Prepare either builds a
// certificate from it or refuses it as bad input. Seed corpus:
// testdata/fuzz/FuzzParseCSR (see TestFuzzSeeds).
func FuzzParseCSR(f *testing.F) {
	iss := catest.NewIssuer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		csr, err := ca.ParseCSR(data)
		if err != nil {
			if !errors.Is(err, ca.ErrInvalidInput) {
				t.Fatalf("error %v does not wrap ErrInvalidInput", err)
			}
			if _, ok := errors.AsType[*ca.FieldError](err); !ok {
				t.Fatalf("error %v is not a FieldError", err)
			}
			return
		}
		if err := csr.CheckSignature(); err != nil {
			t.Fatalf("accepted a CSR whose signature does not verify: %v", err)
		}
		_, err = iss.Prepare(context.Background(), ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), CSR: data})
		if err != nil && !errors.Is(err, ca.ErrInvalidInput) {
			t.Fatalf("prepare: %v", err)
		}
	})
}

// FuzzParseQCStatements checks that the qcStatements parser never panics and
// that what it accepts re-encodes to a value it parses the same way.
// Seed corpus: testdata/fuzz/FuzzParseQCStatements.
func FuzzParseQCStatements(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := ca.ParseQCStatements(data)
		if err != nil {
			return
		}
		der, err := q.Marshal()
		if err != nil {
			return // e.g. no statement we know
		}
		again, err := ca.ParseQCStatements(der)
		if err != nil {
			t.Fatalf("re-encoded statements do not parse: %v", err)
		}
		if !reflect.DeepEqual(normalise(q), normalise(again)) {
			t.Fatalf("round trip changed %+v into %+v", q, again)
		}
	})
}

func normalise(q ca.QCStatements) string { return fmt.Sprintf("%v", q) }

// goldenQC is the qcStatements value of a qualified certificate issued with
// catest.IssuerConfig: QcCompliance, QcSSCD, QcRetentionPeriod 20, QcType
// esign, QcPDS (en, it), semantics natural person.
func goldenQC() ca.QCStatements {
	return ca.QCStatements{
		Compliance:     true,
		SSCD:           true,
		RetentionYears: 20,
		Types:          []asn1.ObjectIdentifier{ca.OIDQcTypeESign},
		PDS:            []ca.PDSLocation{{URL: catest.BaseURL + "/pds/en.pdf", Language: "en"}, {URL: catest.BaseURL + "/pds/it.pdf", Language: "it"}},
		Semantics:      ca.OIDSemanticsNatural,
	}
}

// TestQCStatementsGolden compares the encoding with
// testdata/qcstatements.der, written by `go test ./ca -run
// TestQCStatementsGolden -update` and checked by openssl asn1parse.
func TestQCStatementsGolden(t *testing.T) {
	t.Parallel()
	der, err := goldenQC().Marshal()
	require.NoError(t, err)
	path := filepath.Join("testdata", "qcstatements.der")
	if *update {
		require.NoError(t, os.WriteFile(path, der, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, der)

	q, err := ca.ParseQCStatements(want)
	require.NoError(t, err)
	assert.Equal(t, goldenQC(), q)

	// The same certificate extension the issuer writes.
	iss := catest.NewIssuer(t)
	c := catest.IssueQualified(t, iss).Certificate
	e, ok := extension(c, ca.OIDQCStatements)
	require.True(t, ok)
	assert.Equal(t, want, e.Value)

	openssl := testutil.RequireTool(t, "openssl", "openssl")
	out := string(testutil.Run(t, openssl, "asn1parse", "-inform", "DER", "-in", path))
	for _, oid := range []string{"0.4.0.1862.1.1", "0.4.0.1862.1.4", "0.4.0.1862.1.3", "0.4.0.1862.1.6", "0.4.0.1862.1.6.1", "0.4.0.1862.1.5", "0.4.0.194121.1.1"} {
		assert.Contains(t, out, oid)
	}
	assert.Contains(t, out, "IA5STRING         :https://pki.registra.example/pds/en.pdf")
	assert.Contains(t, out, "PRINTABLESTRING   :en")
}

func TestParseQCStatementsErrors(t *testing.T) {
	t.Parallel()
	good, err := goldenQC().Marshal()
	require.NoError(t, err)
	dup, err := asn1.Marshal([]struct{ ID asn1.ObjectIdentifier }{{ca.OIDQcCompliance}, {ca.OIDQcCompliance}})
	require.NoError(t, err)
	for name, der := range map[string][]byte{
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte{}, good...), 0),
		"duplicate": dup,
		"not DER":   []byte("qc"),
	} {
		_, err := ca.ParseQCStatements(der)
		assert.Error(t, err, name)
	}
	_, err = ca.QCStatements{}.Marshal()
	assert.Error(t, err)
}

// TestFuzzSeeds writes the seed corpora when run with -update, and
// otherwise checks they are present. The CSR seeds are: a valid P-256
// request (DER and PEM), a valid RSA-2048 one, RSA-1024 and P-224 ones
// (weak or unsupported keys), one with a flipped signature byte, and garbage.
func TestFuzzSeeds(t *testing.T) {
	t.Parallel()
	csrDir := filepath.Join("testdata", "fuzz", "FuzzParseCSR")
	qcDir := filepath.Join("testdata", "fuzz", "FuzzParseQCStatements")
	if !*update {
		for _, d := range []string{csrDir, qcDir} {
			entries, err := os.ReadDir(d)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, len(entries), 4, d)
		}
		return
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	r2048, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	fixtures(t)
	csr := func(k any) []byte {
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, k)
		require.NoError(t, err)
		return der
	}
	flipped := csr(p256)
	flipped[len(flipped)-3] ^= 0xff
	seeds := map[string][]byte{
		"p256-der":       csr(p256),
		"p256-pem":       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr(p256)}),
		"rsa2048":        csr(r2048),
		"rsa1024":        csr(rsa1024),
		"p224":           csr(p224),
		"bad-signature":  flipped,
		"garbage":        []byte("-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n"),
		"empty-sequence": {0x30, 0x00},
	}
	writeSeeds(t, csrDir, seeds)
	good, err := goldenQC().Marshal()
	require.NoError(t, err)
	only, err := ca.QCStatements{Compliance: true}.Marshal()
	require.NoError(t, err)
	writeSeeds(t, qcDir, map[string][]byte{
		"qualified":  good,
		"compliance": only,
		"truncated":  good[:20],
		"empty":      {0x30, 0x00},
	})
}

func writeSeeds(t *testing.T, dir string, seeds map[string][]byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, b := range seeds {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
}
