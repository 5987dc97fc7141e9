package recognition_test

import (
	"crypto/x509"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/taxcode"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// fixedNow is the clock of tests that pin time.
var fixedNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

func taxCodeOf(t testing.TB, surname, given string, born time.Time, sex taxcode.Sex) string {
	t.Helper()
	c, err := taxcode.Compute(taxcode.Person{Surname: surname, GivenName: given, BirthDate: born, Sex: sex, Place: "H501"})
	require.NoError(t, err)
	return c.String()
}

// applicant returns an applicant with a valid tax code.
func applicant(t testing.TB) recognition.Applicant {
	t.Helper()
	return recognition.Applicant{
		TaxCode:      taxCodeOf(t, "Rossi", "Nicolò", time.Date(1985, 12, 10, 0, 0, 0, 0, time.UTC), taxcode.Male),
		GivenName:    "Nicolò",
		Surname:      "Rossi",
		DateOfBirth:  "1985-12-10",
		PlaceOfBirth: "Roma",
		Email:        "nicolo.rossi@example.org",
		Mobile:       "+393331234567",
		Document: &recognition.IdentityDocument{
			Country: "IT", Type: "identity_card", Number: "CA12345AB", IssuedOn: "2020-01-15", ExpiresOn: "2031-01-15",
		},
	}
}

func officer(t testing.TB) *recognition.Officer {
	t.Helper()
	return &recognition.Officer{
		ID: "rao-7", GivenName: "Anna", Surname: "Bianchi",
		TaxCode: taxCodeOf(t, "Bianchi", "Anna", time.Date(1979, 4, 2, 0, 0, 0, 0, time.UTC), taxcode.Female),
		Role:    recognition.RoleRAO,
	}
}

func operator(role recognition.Role) recognition.Operator {
	return recognition.Operator{ID: "op-1", Name: "Giulia Verdi", Role: role, Org: "ACME01", Unit: "Milano"}
}

func consents() []recognition.Consent {
	return []recognition.Consent{{Name: recognition.ConsentPrivacy, Given: true}, {Name: "marketing", Given: false}}
}

func documentUploads() []recognition.Upload {
	return []recognition.Upload{
		{Kind: recognition.KindDocumentFront, Name: "front.jpg", Data: recognitiontest.JPEG("front")},
		{Kind: recognition.KindDocumentBack, Name: "back.png", Data: recognitiontest.PNG("back")},
	}
}

// pki is the test PKI shared by a test: a qualified root and issuing CA,
// and an evidence-sealing certificate.
type pki struct {
	root, issuing *recognitiontest.CA
	evidenceCert  *x509.Certificate
	sealer        *recognition.Sealer
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	now := time.Now()
	root := recognitiontest.NewRoot(t, "Test Qualified Root", now.Add(-10*365*24*time.Hour), now.Add(10*365*24*time.Hour))
	issuing := root.NewIntermediate(t, "Test Qualified Signature CA")
	cert, key := issuing.IssueEvidenceCert(t)
	sealer, err := recognition.NewSealer(recognition.SealerConfig{Certificate: cert, Chain: issuing.Chain(), Key: key})
	require.NoError(t, err)
	return &pki{root: root, issuing: issuing, evidenceCert: cert, sealer: sealer}
}

func errorsAs[T error](err error) (T, bool) { return errors.AsType[T](err) }

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
