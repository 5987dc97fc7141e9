package envelope

import (
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"

	"github.com/registra-pki/registra/internal/taxcode"
)

// DefaultMinPassphraseLength is the shortest custom passphrase
// [PassphrasePolicy] accepts when MinLength is zero.
const DefaultMinPassphraseLength = 12

// maxPassphraseLength bounds custom passphrases; PDF readers truncate user
// passwords at 127 bytes (ISO 32000-2 §7.6.4.3.3).
const maxPassphraseLength = 127

// PassphraseRequest is the RAO's choice of passphrase for an envelope
// (Manuale operatore, "Remote signature issuance" and "Encrypted enveloped
// resend": use the owner's tax code, or indicate a different one). Exactly
// one of TaxCode and Custom is set.
type PassphraseRequest struct {
	// TaxCode is the holder's tax code (codice fiscale), used as the
	// passphrase after normalisation: surrounding spaces removed, upper case.
	TaxCode string
	// Custom is a passphrase the RAO chose.
	Custom Passphrase
	// Confirm repeats Custom; it must be equal.
	Confirm Passphrase
}

// PassphrasePolicy turns a [PassphraseRequest] into the [Passphrase] that
// seals an envelope.
type PassphrasePolicy struct {
	// MinLength is the shortest custom passphrase accepted, in characters;
	// zero means [DefaultMinPassphraseLength].
	MinLength int
}

// Validate checks the policy's fields.
func (p PassphrasePolicy) Validate() error {
	if p.MinLength < 0 || p.MinLength > maxPassphraseLength {
		return &FieldError{Field: "min_length", Rule: "must be between 0 and 127"}
	}
	return nil
}

// Choose returns the passphrase the request asks for, or a [*FieldError]
// naming the offending field. The checks, in order: the policy is valid;
// exactly one of tax code and custom passphrase is given; a tax code is a
// valid codice fiscale (format, omocodia, month, day and check character,
// so that a typo does not seal an envelope nobody can open); a
// custom passphrase is long enough, no longer than 127 characters, printable
// ASCII only, and equal to its confirmation.
//
// Custom passphrases are limited to printable ASCII because the same
// passphrase opens both the CMS envelope, whose key derivation takes raw
// bytes (RFC 3211 §2.1), and the PDF, whose readers apply SASLprep to the
// password first (ISO 32000-2 §7.6.4.3.3): the two agree only on ASCII.
func (p PassphrasePolicy) Choose(r PassphraseRequest) (Passphrase, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	tax := strings.ToUpper(strings.TrimSpace(r.TaxCode))
	switch {
	case tax != "" && (r.Custom != "" || r.Confirm != ""):
		return "", &FieldError{Field: "passphrase", Rule: "give either the tax code or a custom passphrase, not both"}
	case tax == "" && r.Custom == "":
		return "", &FieldError{Field: "passphrase", Rule: "give the tax code or a custom passphrase"}
	case tax != "":
		code, err := taxcode.Parse(tax)
		if err != nil {
			// Name the broken rule's place, not the characters: the tax
			// code is about to become a passphrase.
			where := "format"
			if te, ok := errors.AsType[*taxcode.Error](err); ok {
				where = te.Field
			}
			return "", &FieldError{Field: "tax_code", Rule: "is not a valid codice fiscale (" + where + ")"}
		}
		return Passphrase(code.String()), nil
	}
	minLen := p.MinLength
	if minLen == 0 {
		minLen = DefaultMinPassphraseLength
	}
	custom := string(r.Custom)
	for i := 0; i < len(custom); i++ {
		if custom[i] < ' ' || custom[i] > '~' {
			return "", &FieldError{Field: "passphrase", Rule: "must be printable ASCII"}
		}
	}
	if len(custom) < minLen {
		return "", &FieldError{Field: "passphrase", Rule: "must be at least " + strconv.Itoa(minLen) + " characters"}
	}
	if len(custom) > maxPassphraseLength {
		return "", &FieldError{Field: "passphrase", Rule: "must be at most 127 characters"}
	}
	if subtle.ConstantTimeCompare([]byte(custom), []byte(r.Confirm)) != 1 {
		return "", &FieldError{Field: "confirm", Rule: "does not match the passphrase"}
	}
	return r.Custom, nil
}
