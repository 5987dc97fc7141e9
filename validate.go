package registra

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/registra-pki/registra/internal/taxcode"
	"github.com/registra-pki/registra/recognition"
)

// Applicant is the person a product is requested for, as entered from the
// request form (DESIGN.md "Request"; Manuale operatore, "Product Request").
type Applicant struct {
	// TaxCode is the Italian tax code (codice fiscale); omocodia variants
	// are accepted.
	TaxCode   string
	FirstName string
	Surname   string
	// Sex is "M" or "F", as encoded in the tax code.
	Sex string
	// BirthDate is the date of birth (year, month and day are used).
	BirthDate time.Time
	// BirthPlace is the cadastral code of the municipality of birth (such as
	// "H501"), or "Z" and three digits for a foreign country; optional,
	// checked against the tax code when given.
	BirthPlace string
	Document   Document
	Residence  Address
	// Email and Mobile must be unused by any other holder identity. Mobile
	// is in E.164 form (+39...).
	Email  string
	Mobile string
	// PrivacyConsent is mandatory; MarketingConsent is optional.
	PrivacyConsent   bool
	MarketingConsent bool
}

// Document is the applicant's identity document.
type Document struct {
	// Country is the issuing country, ISO 3166-1 alpha-2.
	Country string
	// Type is one of [DocumentTypes].
	Type      string
	Number    string
	IssuedOn  time.Time
	ExpiresOn time.Time
}

// Address is the applicant's residence.
type Address struct {
	Street     string
	PostalCode string
	City       string
	Province   string
	Country    string
}

// DocumentTypes are the identity documents accepted (Manuale operatore:
// "Identity Card or Passport"; a driving licence is a valid Italian
// recognition document, DPR 445/2000 art. 35).
func DocumentTypes() []string { return []string{"identity_card", "passport", "driving_licence"} }

// OrderInput is what an operator enters for a request. A draft may be
// incomplete; [Platform.Submit] requires every mandatory field.
type OrderInput struct {
	// ProductType is a catalogue product ID.
	ProductType string
	// Method is the recognition method chosen for the request.
	Method recognition.Method
	// Unit is the unit the request is entered in; zero means the
	// operator's.
	Unit string
	// ExternalCode is the partner's lookup code, unique in the
	// organisation; Nickname and DeviceSerial are free search keys.
	ExternalCode string
	Nickname     string
	DeviceSerial string
	// DurationMonths is the chosen validity; zero means the product's
	// default. Only methods that allow it may change it.
	DurationMonths int
	// Role data, required by role products and refused by the others:
	// the organisation, its identifier (e.g. VATIT-01234567890, ETSI EN 319
	// 412-1 §5.1.4) and the title.
	RoleOrganization   string
	RoleOrganizationID string
	RoleTitle          string
	Applicant          Applicant
}

var (
	mobileRE  = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	placeRE   = regexp.MustCompile(`^[A-Z][0-9]{3}$`)
	orgIDRE   = regexp.MustCompile(`^[A-Z]{3}[A-Z]{2}-[A-Za-z0-9.-]{1,60}$`)
)

// validator collects the first error of a validation.
type validator struct{ err error }

func (v *validator) fail(field, rule string) {
	if v.err == nil {
		v.err = &FieldError{Field: field, Rule: rule}
	}
}

func (v *validator) text(field, s string, max int, required bool) {
	switch {
	case s == "" && required:
		v.fail(field, "is required")
	case !utf8.ValidString(s):
		v.fail(field, "must be UTF-8")
	case utf8.RuneCountInString(s) > max:
		v.fail(field, fmt.Sprintf("must be at most %d characters", max))
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.fail(field, "must not contain control characters")
	}
}

func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

// validateOrder checks an order input against the catalogue at now. A
// draft (complete false) checks the fields that are set and the minimum a
// holder record needs (tax code and names); complete checks everything.
func (p *Platform) validateOrder(in *OrderInput, complete bool, now time.Time) error {
	v := &validator{}
	pt, ok := p.product(in.ProductType)
	if !ok {
		v.fail("product_type", "is not in the catalogue")
		return v.err
	}
	rule, ok := pt.Rule(in.Method)
	if !ok {
		v.fail("method", fmt.Sprintf("product %s cannot be requested with method %s", pt.ID, in.Method))
		return v.err
	}
	if in.DurationMonths != 0 {
		switch {
		case len(pt.Durations) == 0:
			v.fail("duration_months", "product has a fixed validity")
		case !slices.Contains(pt.Durations, in.DurationMonths):
			v.fail("duration_months", fmt.Sprintf("must be one of %v", pt.Durations))
		case !rule.DurationEditable && in.DurationMonths != pt.DefaultDuration:
			v.fail("duration_months", fmt.Sprintf("cannot be changed with method %s", in.Method))
		}
	}
	v.text("external_code", in.ExternalCode, 200, false)
	v.text("nickname", in.Nickname, 200, false)
	v.text("device_serial", in.DeviceSerial, 200, false)
	v.text("unit", in.Unit, 64, false)
	if pt.Role {
		v.text("role_organization", in.RoleOrganization, 64, complete)
		v.text("role_title", in.RoleTitle, 64, complete)
		if in.RoleOrganizationID != "" || complete {
			if !orgIDRE.MatchString(in.RoleOrganizationID) {
				v.fail("role_organization_id", "must be like VATIT-01234567890 (ETSI EN 319 412-1 §5.1.4)")
			}
		}
	} else if in.RoleOrganization != "" || in.RoleOrganizationID != "" || in.RoleTitle != "" {
		v.fail("role_organization", "only role products take role data")
	}
	if v.err != nil {
		return v.err
	}
	return validateApplicant(&in.Applicant, complete, now)
}

// validateApplicant checks the applicant (DESIGN.md "Request").
func validateApplicant(a *Applicant, complete bool, now time.Time) error {
	v := &validator{}
	a.TaxCode = strings.ToUpper(strings.TrimSpace(a.TaxCode))
	a.Email = strings.TrimSpace(a.Email)
	a.Mobile = strings.ReplaceAll(strings.TrimSpace(a.Mobile), " ", "")
	v.text("applicant.first_name", a.FirstName, 64, true)
	v.text("applicant.surname", a.Surname, 64, true)
	if v.err != nil {
		return v.err
	}
	code, err := taxcode.Parse(a.TaxCode)
	if err != nil {
		v.fail("applicant.tax_code", taxCodeRule(err))
		return v.err
	}
	var sex taxcode.Sex
	switch a.Sex {
	case "":
		if complete {
			v.fail("applicant.sex", "is required")
		}
	case "M":
		sex = taxcode.Male
	case "F":
		sex = taxcode.Female
	default:
		v.fail("applicant.sex", `must be "M" or "F"`)
	}
	today := day(now)
	switch {
	case a.BirthDate.IsZero():
		if complete {
			v.fail("applicant.birth_date", "is required")
		}
	case day(a.BirthDate).After(today):
		v.fail("applicant.birth_date", "must not be in the future")
	case day(a.BirthDate).Before(today.AddDate(-130, 0, 0)):
		v.fail("applicant.birth_date", "must be within the last 130 years")
	}
	if a.BirthPlace != "" && !placeRE.MatchString(a.BirthPlace) {
		v.fail("applicant.birth_place", "must be a cadastral code: a letter and three digits")
	}
	if v.err != nil {
		return v.err
	}
	// The tax code encodes the names, the birth date, the sex and the place
	// of birth: each must agree (omocodia variants included).
	person := taxcode.Person{Surname: a.Surname, GivenName: a.FirstName, BirthDate: a.BirthDate, Sex: sex, Place: a.BirthPlace}
	if err := code.Check(person); err != nil {
		var te *taxcode.Error
		if errors.As(err, &te) && (te.Field == "birth date" && a.BirthDate.IsZero() || te.Field == "sex" && sex == 0) {
			// Not entered yet (draft): nothing to compare.
		} else {
			rule := "does not match the applicant's data"
			if te != nil {
				rule = "does not match the applicant's " + te.Field
			}
			v.fail("applicant.tax_code", rule)
			return v.err
		}
	}
	if a.Email != "" || complete {
		addr, err := mail.ParseAddress(a.Email)
		if err != nil || addr.Address != a.Email || addr.Name != "" || !strings.Contains(a.Email[strings.LastIndexByte(a.Email, '@')+1:], ".") || len(a.Email) > 254 {
			v.fail("applicant.email", "must be an e-mail address like name@example.com")
		}
	}
	if a.Mobile != "" || complete {
		if !mobileRE.MatchString(a.Mobile) {
			v.fail("applicant.mobile", "must be an E.164 number like +393401234567")
		}
	}
	validateDocument(v, &a.Document, a.BirthDate, complete, today)
	r := a.Residence
	v.text("applicant.residence.street", r.Street, 200, complete)
	v.text("applicant.residence.postal_code", r.PostalCode, 16, complete)
	v.text("applicant.residence.city", r.City, 100, complete)
	v.text("applicant.residence.province", r.Province, 100, false)
	if r.Country != "" || complete {
		if !countryRE.MatchString(r.Country) {
			v.fail("applicant.residence.country", "must be an ISO 3166-1 alpha-2 code")
		}
	}
	// Manuale operatore, "Product Request": the privacy consent of the
	// signed form is required; marketing is optional.
	if complete && !a.PrivacyConsent {
		v.fail("applicant.privacy_consent", "is mandatory")
	}
	return v.err
}

func validateDocument(v *validator, d *Document, birth time.Time, complete bool, today time.Time) {
	if d.Type != "" || complete {
		if !slices.Contains(DocumentTypes(), d.Type) {
			v.fail("applicant.document.type", fmt.Sprintf("must be one of %v", DocumentTypes()))
		}
	}
	if d.Country != "" || complete {
		if !countryRE.MatchString(d.Country) {
			v.fail("applicant.document.country", "must be an ISO 3166-1 alpha-2 code")
		}
	}
	v.text("applicant.document.number", d.Number, 64, complete)
	switch {
	case d.IssuedOn.IsZero():
		if complete {
			v.fail("applicant.document.issued_on", "is required")
		}
	case day(d.IssuedOn).After(today):
		v.fail("applicant.document.issued_on", "must not be in the future")
	case !birth.IsZero() && day(d.IssuedOn).Before(day(birth)):
		v.fail("applicant.document.issued_on", "must not be before the birth date")
	}
	switch {
	case d.ExpiresOn.IsZero():
		if complete {
			v.fail("applicant.document.expires_on", "is required")
		}
	case day(d.ExpiresOn).Before(today):
		v.fail("applicant.document.expires_on", "the document has expired")
	case !d.IssuedOn.IsZero() && !day(d.ExpiresOn).After(day(d.IssuedOn)):
		v.fail("applicant.document.expires_on", "must be after the issue date")
	}
}

// emailAlias proposes another address based on email, for an e-mail already
// used by another holder (Manuale operatore, "SPID Recognition Product
// Request": "you will be offered to use another alias based on the initial
// email"): the local part gets a "+" tag.
func emailAlias(email, tag string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	local := email[:at]
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	return local + "+" + tag + email[at:]
}

// ValidateOrder checks an order input as CreateDraft (complete false) or
// Submit (complete true) would, without storing anything: for forms that
// check each step as the operator goes. It does not check that the e-mail
// and mobile are unused (only the store knows).
func (p *Platform) ValidateOrder(in OrderInput, complete bool) error {
	return p.validateOrder(&in, complete, p.clock())
}

// taxCodeRule is the rule a tax code broke, as taxcode.Parse reports it.
func taxCodeRule(err error) string {
	if te, ok := errors.AsType[*taxcode.Error](err); ok {
		return te.Field + ": " + te.Rule
	}
	return "is not a valid tax code"
}
