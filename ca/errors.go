package ca

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error the package returns wraps one of them, so that
// callers (and the adapters' mapping tables) can use [errors.Is].
var (
	// ErrInvalidInput reports a bad request or configuration: a malformed
	// or wrongly signed CSR, a weak key, an invalid tax code, an empty name,
	// a validity past the issuing CA's. Nothing is issued. The details are in
	// a [*FieldError].
	ErrInvalidInput = errors.New("ca: invalid input")
	// ErrLint reports that a certificate or CRL failed pre-issuance linting
	// with an error or fatal result. Nothing is signed. The details are in a
	// [*LintError].
	ErrLint = errors.New("ca: lint failed")
	// ErrHierarchy reports that a data directory does not hold a usable
	// hierarchy: a corrupt or foreign manifest, a missing or altered
	// certificate file, or a key that does not match its certificate.
	ErrHierarchy = errors.New("ca: unusable hierarchy")
	// ErrTicket reports a [Ticket] that was already signed, or that belongs
	// to another [Issuer].
	ErrTicket = errors.New("ca: invalid ticket")
	// ErrSigning reports that the key manager or signer failed, or that the
	// signed certificate differs from the linted one. Nothing is returned.
	ErrSigning = errors.New("ca: signing failed")
)

// FieldError names the input field that is wrong and the rule it breaks. It
// unwraps to [ErrInvalidInput].
type FieldError struct {
	// Field is the name of the field, in Go syntax relative to the request
	// or config ("Holder.TaxCode", "CSR", "Validity").
	Field string
	// Rule states the rule the value breaks, in a few lower-case words.
	Rule string
	// Err is the underlying error, if any (for example from
	// internal/taxcode or crypto/x509).
	Err error
}

// Error implements error as "ca: <field>: <rule>".
func (e *FieldError) Error() string {
	msg := "ca: " + e.Field + ": " + e.Rule
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns [ErrInvalidInput] and the underlying error, if any.
func (e *FieldError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidInput, e.Err}
	}
	return []error{ErrInvalidInput}
}

func fieldErr(field, rule string) error { return &FieldError{Field: field, Rule: rule} }

// LintFinding is one lint that reported an error or fatal result.
type LintFinding struct {
	// Lint is the zlint name of the lint, e.g. "e_qcstatem_qcpds_valid".
	Lint string
	// Status is "error" or "fatal".
	Status string
	// Details is the lint's explanation, when it gives one.
	Details string
	// Citation is the clause the lint enforces.
	Citation string
}

// Error implements error.
func (f LintFinding) Error() string {
	msg := "ca: lint " + f.Lint + ": " + f.Status
	if f.Details != "" {
		msg += ": " + f.Details
	}
	return msg
}

// LintError reports every lint that failed on one certificate or CRL. It
// unwraps to [ErrLint] and to each [LintFinding].
type LintError struct {
	// Subject says what was linted ("certificate qualified", "crl").
	Subject string
	// Findings lists the failing lints, sorted by name.
	Findings []LintFinding
}

// Error implements error as "ca: lint <subject>: <name>, <name>, ...".
func (e *LintError) Error() string {
	names := make([]string, len(e.Findings))
	for i, f := range e.Findings {
		names[i] = f.Lint
	}
	return "ca: lint " + e.Subject + ": " + strings.Join(names, ", ")
}

// Unwrap returns [ErrLint] followed by each finding.
func (e *LintError) Unwrap() []error {
	errs := make([]error, 0, len(e.Findings)+1)
	errs = append(errs, ErrLint)
	for _, f := range e.Findings {
		errs = append(errs, f)
	}
	return errs
}

// HierarchyError explains why a data directory cannot be opened. It unwraps
// to [ErrHierarchy] and to the underlying error, if any.
type HierarchyError struct {
	// Dir is the data directory.
	Dir string
	// What names the item that is wrong ("manifest", "root.pem", "issuing
	// key").
	What string
	// Rule states what is wrong with it.
	Rule string
	// Err is the underlying error, if any.
	Err error
}

// Error implements error as "ca: hierarchy <dir>: <what>: <rule>".
func (e *HierarchyError) Error() string {
	msg := "ca: hierarchy " + e.Dir + ": " + e.What + ": " + e.Rule
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns [ErrHierarchy] and the underlying error, if any.
func (e *HierarchyError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrHierarchy, e.Err}
	}
	return []error{ErrHierarchy}
}
