package crl

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Sentinel errors. Every error this package returns wraps one of them.
var (
	// ErrInvalidInput reports a bad argument or configuration field.
	ErrInvalidInput = errors.New("crl: invalid input")
	// ErrNotFound reports that a certificate or CRL is unknown.
	ErrNotFound = errors.New("crl: not found")
	// ErrReconcile reports a CRL that does not list exactly the revoked and
	// held serials of its scope; it is never published.
	ErrReconcile = errors.New("crl: entries do not match status records")
	// ErrVerify reports a CRL or OCSP response whose signature does not
	// verify after signing; it is never published.
	ErrVerify = errors.New("crl: signature does not verify")
	// ErrLint reports a CRL that fails a zlint revocation-list lint.
	ErrLint = errors.New("crl: lint failed")
	// ErrNumber reports a CRL number that is not greater than the last one
	// published in its scope (RFC 5280 §5.2.3).
	ErrNumber = errors.New("crl: crl number does not increase")
)

// FieldError names a bad input field and the rule it breaks. It unwraps to
// [ErrInvalidInput].
type FieldError struct {
	Field string
	Rule  string
}

// Error names the field and the rule.
func (e *FieldError) Error() string {
	return "crl: " + e.Field + ": " + e.Rule
}

// Unwrap returns [ErrInvalidInput].
func (e *FieldError) Unwrap() error { return ErrInvalidInput }

// ReconcileError lists the serials the status records hold as revoked or
// held that the CRL being built lacks (Missing), and the entries it has that
// the records do not hold (Extra). It unwraps to [ErrReconcile].
type ReconcileError struct {
	Missing []*big.Int
	Extra   []*big.Int
}

// Error counts the missing and extra serials and names the first of each.
func (e *ReconcileError) Error() string {
	var b strings.Builder
	b.WriteString("crl: reconcile:")
	if len(e.Missing) > 0 {
		fmt.Fprintf(&b, " %d serial(s) missing (first %x)", len(e.Missing), e.Missing[0])
	}
	if len(e.Extra) > 0 {
		fmt.Fprintf(&b, " %d serial(s) not revoked or held (first %x)", len(e.Extra), e.Extra[0])
	}
	return b.String()
}

// Unwrap returns [ErrReconcile].
func (e *ReconcileError) Unwrap() error { return ErrReconcile }

// LintError carries every failing zlint lint with its details. It unwraps
// to [ErrLint].
type LintError struct {
	// Results maps a lint name to its status and details.
	Results map[string]string
}

// Error lists the failing lints, sorted.
func (e *LintError) Error() string {
	names := make([]string, 0, len(e.Results))
	for n, d := range e.Results {
		names = append(names, n+" ("+d+")")
	}
	sortStrings(names)
	return "crl: lint: " + strings.Join(names, "; ")
}

// Unwrap returns [ErrLint].
func (e *LintError) Unwrap() error { return ErrLint }

// NumberError reports a CRL number that is not greater than the last one
// published in its scope. It unwraps to [ErrNumber].
type NumberError struct {
	Number, Last *big.Int
}

// Error names both numbers.
func (e *NumberError) Error() string {
	return fmt.Sprintf("crl: crl number %s: not greater than last published %s", e.Number, e.Last)
}

// Unwrap returns [ErrNumber].
func (e *NumberError) Unwrap() error { return ErrNumber }
