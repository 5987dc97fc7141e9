package etsi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

var update = flag.Bool("update", false, "rewrite the PEM fixtures in testdata")

const lintName = "e_registra_natural_person_identifier"

// fixtures are the PEM files in testdata, one per case: the serialNumber of
// the subject and whether the certificate declares the natural-person
// semantics identifier. Generation command:
// go test ./ca/lints/etsi -run TestNaturalPersonIdentifier -update
var fixtures = []struct {
	file      string
	serial    string
	semantics bool
	want      lint.LintStatus
}{
	{"natural_person_tinit_ok.pem", "TINIT-RSSMRA85T10A562S", true, lint.Pass},
	{"natural_person_passport_ok.pem", "PASIT-YA1234567", true, lint.Pass},
	{"natural_person_national_scheme_ok.pem", "CF:IT-RSSMRA85T10A562S", true, lint.Pass},
	{"natural_person_no_serial.pem", "", true, lint.Error},
	{"natural_person_bare_tax_code.pem", "RSSMRA85T10A562S", true, lint.Error},
	{"natural_person_short_tinit.pem", "TINIT-12345", true, lint.Error},
	{"natural_person_unknown_type.pem", "XYZIT-123", true, lint.Error},
	{"no_semantics_na.pem", "RSSMRA85T10A562S", false, lint.NA},
}

func qcStatements(t *testing.T, semantics bool) pkix.Extension {
	t.Helper()
	type statement struct {
		ID   asn1.ObjectIdentifier
		Info asn1.RawValue `asn1:"optional"`
	}
	list := []statement{{ID: asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}}}
	if semantics {
		info, err := asn1.Marshal(struct{ ID asn1.ObjectIdentifier }{oidSemanticsNatural})
		require.NoError(t, err)
		list = append(list, statement{ID: oidPKIXQCSyntaxV2, Info: asn1.RawValue{FullBytes: info}})
	}
	v, err := asn1.Marshal(list)
	require.NoError(t, err)
	return pkix.Extension{Id: oidQCStatements, Value: v}
}

func writeFixture(t *testing.T, path, serial string, semantics bool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:    big.NewInt(1),
		Subject:         pkix.Name{CommonName: "Mario Rossi", SerialNumber: serial, Country: []string{"IT"}},
		NotBefore:       time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:        time.Date(2029, time.January, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:        x509.KeyUsageContentCommitment,
		ExtraExtensions: []pkix.Extension{qcStatements(t, semantics)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
}

func TestNaturalPersonIdentifier(t *testing.T) {
	t.Parallel()
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeNames: []string{lintName}})
	require.NoError(t, err)
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", fx.file)
			if *update {
				writeFixture(t, path, fx.serial, fx.semantics)
			}
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			block, _ := pem.Decode(b)
			require.NotNil(t, block)
			c, err := zx509.ParseCertificate(block.Bytes)
			require.NoError(t, err)
			rs := zlint.LintCertificateEx(c, reg)
			require.Contains(t, rs.Results, lintName)
			assert.Equal(t, fx.want, rs.Results[lintName].Status, rs.Results[lintName].Details)
		})
	}
}

func TestRegisteredUnderETSI(t *testing.T) {
	t.Parallel()
	l := lint.GlobalRegistry().ByName(lintName)
	require.NotNil(t, l)
	assert.Equal(t, lint.EtsiEsi, l.Source)
	assert.NotEmpty(t, l.Citation)
}
