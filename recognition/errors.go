package recognition

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Callers test for them with [errors.Is]; the typed errors
// below carry the details and unwrap to one or more of them.
var (
	// ErrInvalidInput reports a submission that is malformed or incomplete:
	// a missing field, an upload of the wrong type or size. It is returned
	// before anything is verified, sent or stored.
	ErrInvalidInput = errors.New("recognition: invalid input")

	// ErrVerification reports that a check on the submitted evidence failed.
	// Every failed check is a [*CheckError] that also unwraps to the
	// sentinel of its kind (ErrSignature, ErrChain, ...).
	ErrVerification = errors.New("recognition: verification failed")

	// ErrFormat: an artefact cannot be parsed as what it claims to be (a
	// .p7m that is not CMS SignedData, a SAML response that is not XML).
	ErrFormat = errors.New("recognition: malformed artefact")
	// ErrSignature: a signature does not verify over its content.
	ErrSignature = errors.New("recognition: signature does not verify")
	// ErrChain: the signer certificate does not chain to a trust anchor.
	ErrChain = errors.New("recognition: certificate chain does not verify")
	// ErrValidity: the signer certificate, or a SAML assertion, is expired
	// or not yet valid.
	ErrValidity = errors.New("recognition: outside the validity period")
	// ErrSigningTime: the signing time is missing, outside the signer
	// certificate's validity, in the future or too old.
	ErrSigningTime = errors.New("recognition: signing time not acceptable")
	// ErrRevoked: the signer certificate is revoked or suspended, or its
	// revocation status cannot be established from a current CRL.
	ErrRevoked = errors.New("recognition: certificate revoked or status unknown")
	// ErrNotQualified: the signer certificate lacks the QcCompliance
	// statement or the nonRepudiation key usage.
	ErrNotQualified = errors.New("recognition: certificate is not qualified")
	// ErrIdentityMismatch: the identity proven by the evidence (certificate
	// serialNumber and names, SPID attributes, the acting RAO) differs from
	// the applicant's or operator's data.
	ErrIdentityMismatch = errors.New("recognition: identity does not match")
	// ErrAssurance: the SPID authentication level is below the one
	// required.
	ErrAssurance = errors.New("recognition: authentication level too low")
	// ErrInfected: the antivirus scanner found a threat in an upload.
	ErrInfected = errors.New("recognition: file is infected")
	// ErrScannerUnavailable: no antivirus scanner is configured or it cannot
	// be reached, so Sign ID cannot run.
	ErrScannerUnavailable = errors.New("recognition: antivirus scanner unavailable")
	// ErrUnauthenticated: a provider callback carries no valid HMAC or its
	// timestamp is outside the accepted window.
	ErrUnauthenticated = errors.New("recognition: callback not authenticated")
	// ErrReplay: a callback or SAML assertion was already accepted once.
	ErrReplay = errors.New("recognition: replayed message")
	// ErrOTPInvalid: the OTP does not match.
	ErrOTPInvalid = errors.New("recognition: otp does not match")
	// ErrOTPExpired: the OTP was used after its expiry.
	ErrOTPExpired = errors.New("recognition: otp expired")
	// ErrOTPLocked: every allowed attempt was used, or the challenge was
	// already completed; a new challenge must be started.
	ErrOTPLocked = errors.New("recognition: otp challenge closed")
	// ErrIssuance: the one-shot certificate could not be issued.
	ErrIssuance = errors.New("recognition: one-shot certificate not issued")
	// ErrOutcome: the external provider reports that recognition failed.
	ErrOutcome = errors.New("recognition: provider reports recognition failed")
)

// FieldError reports one invalid field of an input. It unwraps to
// [ErrInvalidInput].
type FieldError struct {
	Field string // dotted path of the field, e.g. "applicant.tax_code"
	Rule  string // the rule it breaks, e.g. "is required"
}

// Error returns the message, "recognition: ..." as the package writes them.
func (e *FieldError) Error() string {
	return fmt.Sprintf("recognition: %s: %s", e.Field, e.Rule)
}

// Unwrap returns [ErrInvalidInput].
func (e *FieldError) Unwrap() error { return ErrInvalidInput }

// InputError gathers every [*FieldError] of one input, so that a caller can
// show all of them at once. It unwraps to each of them.
type InputError struct {
	Fields []*FieldError
}

// Error returns the message, "recognition: ..." as the package writes them.
func (e *InputError) Error() string {
	if len(e.Fields) == 1 {
		return e.Fields[0].Error()
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Rule
	}
	return "recognition: invalid input: " + strings.Join(parts, "; ")
}

// Unwrap returns the field errors.
func (e *InputError) Unwrap() []error {
	errs := make([]error, len(e.Fields))
	for i, f := range e.Fields {
		errs[i] = f
	}
	return errs
}

// fieldErrors collects field errors while validating an input.
type fieldErrors []*FieldError

func (fe *fieldErrors) add(field, rule string) {
	*fe = append(*fe, &FieldError{Field: field, Rule: rule})
}

// err returns nil, the single error, or an [*InputError] with all of them.
func (fe fieldErrors) err() error {
	switch len(fe) {
	case 0:
		return nil
	case 1:
		return fe[0]
	}
	return &InputError{Fields: fe}
}

// CheckError reports one failed verification check. It unwraps to
// [ErrVerification], to the sentinel of the check's kind and to the cause.
type CheckError struct {
	Check  CheckName // the check that failed
	Kind   error     // the sentinel of its kind, e.g. ErrRevoked
	Detail string    // what was found, e.g. "serial 12 revoked at 2026-01-02T00:00:00Z"
	Err    error     // the underlying cause, if any
}

// Error returns the message, "recognition: ..." as the package writes them.
func (e *CheckError) Error() string {
	msg := "recognition: " + string(e.Check) + ": " + e.Detail
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrVerification, the kind and the cause.
func (e *CheckError) Unwrap() []error {
	errs := []error{ErrVerification}
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// VerificationError gathers every failed check of one verification, in the
// order the checks ran. It unwraps to each [*CheckError].
type VerificationError struct {
	Failed []*CheckError
}

// Error returns the message, "recognition: ..." as the package writes them.
func (e *VerificationError) Error() string {
	if len(e.Failed) == 1 {
		return e.Failed[0].Error()
	}
	parts := make([]string, len(e.Failed))
	for i, c := range e.Failed {
		parts[i] = strings.TrimPrefix(c.Error(), "recognition: ")
	}
	return fmt.Sprintf("recognition: %d checks failed: %s", len(e.Failed), strings.Join(parts, "; "))
}

// Unwrap returns the failed checks.
func (e *VerificationError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, c := range e.Failed {
		errs[i] = c
	}
	return errs
}

// Checks returns the names of the failed checks.
func (e *VerificationError) Checks() []CheckName {
	names := make([]CheckName, len(e.Failed))
	for i, c := range e.Failed {
		names[i] = c.Check
	}
	return names
}

// InfectedError reports a threat found by the antivirus scanner. It unwraps
// to [ErrInfected].
type InfectedError struct {
	Threat string // the scanner's name for the threat, e.g. "Eicar-Test-Signature"
	Engine string // the scanner that found it
}

// Error returns the message, "recognition: ..." as the package writes them.
func (e *InfectedError) Error() string {
	return fmt.Sprintf("recognition: antivirus: %s found by %s", e.Threat, e.Engine)
}

// Unwrap returns [ErrInfected].
func (e *InfectedError) Unwrap() error { return ErrInfected }
