package registra_test

import (
	"errors"
	"testing"
	"time"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/recognition"
)

// FuzzValidateOrder feeds arbitrary applicant fields to the order
// validation: it never panics, and refuses only with a *FieldError
// (ErrInvalidInput). The seed corpus is in testdata/fuzz/FuzzValidateOrder;
// run with go test -fuzz=FuzzValidateOrder.
func FuzzValidateOrder(f *testing.F) {
	a := applicant(1)
	f.Add(a.TaxCode, a.FirstName, a.Surname, a.Sex, "1985-12-10", a.BirthPlace, a.Email, a.Mobile, "identity_card", "IT", 0)
	f.Add("RSSMRA85T10A562S", "Mario", "Rossi", "M", "1985-12-10", "A562", "mario@example.org", "+393401234567", "passport", "IT", 24)
	f.Add("", "", "", "", "", "", "", "", "", "", -1)
	env := openEnv(f)
	f.Fuzz(func(t *testing.T, tax, given, surname, sex, born, place, email, mobile, docType, country string, months int) {
		in := orderInput(1)
		in.DurationMonths = months
		in.Applicant.TaxCode, in.Applicant.FirstName, in.Applicant.Surname, in.Applicant.Sex = tax, given, surname, sex
		in.Applicant.BirthDate, _ = time.Parse(time.DateOnly, born)
		in.Applicant.BirthPlace, in.Applicant.Email, in.Applicant.Mobile = place, email, mobile
		in.Applicant.Document.Type, in.Applicant.Document.Country = docType, country
		in.Method = recognition.MethodLiveID
		for _, complete := range []bool{false, true} {
			err := env.P.ValidateOrder(in, complete)
			if err == nil {
				continue
			}
			var fe *registra.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, registra.ErrInvalidInput) || fe.Field == "" || fe.Rule == "" {
				t.Fatalf("not a field error: %v", err)
			}
		}
	})
}
