package etsi

import (
	"encoding/asn1"
	"regexp"
	"time"

	"github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3/lint"
)

// Requirement (ETSI EN 319 412-1 §5.1.3, in our words): when a certificate
// declares, through the pkixQCSyntax-v2 statement, the semantics identifier
// id-etsi-qcs-semanticsId-Natural, the subject's serialNumber must be a
// natural person identifier of the form <3-letter type><2-letter
// country>-<identifier>, the type being PAS (passport), IDC (identity card),
// PNO (national personal number), TAX (tax reference) or TIN (EU tax
// identification number), or a two-letter national scheme followed by a
// colon in place of the type (e.g. CF:IT-...). For the
// Italian tax identifier (TINIT-) the identifier is the 16-character codice
// fiscale.

type naturalPersonIdentifier struct{}

func init() {
	lint.RegisterCertificateLint(&lint.CertificateLint{
		LintMetadata: lint.LintMetadata{
			Name:          "e_registra_natural_person_identifier",
			Description:   "With the natural-person semantics identifier, the subject serialNumber must follow the ETSI EN 319 412-1 natural person identifier syntax",
			Citation:      "ETSI EN 319 412-1 V1.4.4 §5.1.3",
			Source:        lint.EtsiEsi,
			EffectiveDate: time.Date(2016, time.February, 1, 0, 0, 0, 0, time.UTC),
		},
		Lint: newNaturalPersonIdentifier,
	})
}

func newNaturalPersonIdentifier() lint.LintInterface { return &naturalPersonIdentifier{} }

var (
	oidQCStatements     = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}
	oidPKIXQCSyntaxV2   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 11, 2}
	oidSemanticsNatural = asn1.ObjectIdentifier{0, 4, 0, 194121, 1, 1}

	etsiIdentifier = regexp.MustCompile(`^((PAS|IDC|PNO|TAX|TIN)[A-Z]{2}-.+|[A-Z]{2}:[A-Z]{2}-.+)$`)
	italianTaxCode = regexp.MustCompile(`^TINIT-[A-Z0-9]{16}$`)
)

type qcStatement struct {
	ID   asn1.ObjectIdentifier
	Info asn1.RawValue `asn1:"optional"`
}

type semanticsInformation struct {
	Identifier asn1.ObjectIdentifier `asn1:"optional"`
}

// semanticsIsNatural reports whether c's qcStatements declare the
// natural-person semantics identifier.
func semanticsIsNatural(c *x509.Certificate) bool {
	for _, ext := range c.Extensions {
		if !asn1.ObjectIdentifier(ext.Id).Equal(oidQCStatements) {
			continue
		}
		var list []qcStatement
		if _, err := asn1.Unmarshal(ext.Value, &list); err != nil {
			return false
		}
		for _, st := range list {
			if !st.ID.Equal(oidPKIXQCSyntaxV2) || len(st.Info.FullBytes) == 0 {
				continue
			}
			var si semanticsInformation
			if _, err := asn1.Unmarshal(st.Info.FullBytes, &si); err == nil && si.Identifier.Equal(oidSemanticsNatural) {
				return true
			}
		}
	}
	return false
}

func (l *naturalPersonIdentifier) CheckApplies(c *x509.Certificate) bool {
	return semanticsIsNatural(c)
}

func (l *naturalPersonIdentifier) Execute(c *x509.Certificate) *lint.LintResult {
	sn := c.Subject.SerialNumber
	switch {
	case sn == "":
		return &lint.LintResult{Status: lint.Error, Details: "subject has no serialNumber"}
	case !etsiIdentifier.MatchString(sn):
		return &lint.LintResult{Status: lint.Error, Details: "serialNumber " + sn + " is not <type><country>-<identifier>"}
	case len(sn) > 5 && sn[:5] == "TINIT" && !italianTaxCode.MatchString(sn):
		return &lint.LintResult{Status: lint.Error, Details: "TINIT- identifier must be a 16-character tax code"}
	}
	return &lint.LintResult{Status: lint.Pass}
}
