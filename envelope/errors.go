package envelope

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers (and the HTTP and CLI mapping tables) test the kind with
// [errors.Is] and the details with [errors.As].
var (
	// ErrInvalidInput reports bad input from a caller: a field that breaks a
	// rule. It is carried by [*FieldError].
	ErrInvalidInput = errors.New("envelope: invalid input")

	// ErrWrongPassphrase reports that an envelope does not open with the given
	// passphrase. It is the only error that says "try another passphrase";
	// every other failure of Open is fatal (the contract of age's Decrypt).
	ErrWrongPassphrase = errors.New("envelope: wrong passphrase")

	// ErrMalformed reports an envelope, payload or vault record that cannot be
	// parsed or breaks its format's rules.
	ErrMalformed = errors.New("envelope: malformed input")

	// ErrUnsupported reports a well-formed envelope that uses an algorithm or
	// parameter this package does not accept (for example an iteration count
	// below the floor, or a cipher other than AES-CBC).
	ErrUnsupported = errors.New("envelope: unsupported algorithm or parameter")

	// ErrIntegrity reports a vault record that does not authenticate under the
	// key-encryption key: another key, another product, or tampering.
	ErrIntegrity = errors.New("envelope: vault: record does not authenticate")

	// ErrMismatch reports a code that does not match the slow hash kept in a
	// vault record.
	ErrMismatch = errors.New("envelope: vault: code does not match")

	// ErrNotFound reports a code name that a record or code set does not hold.
	ErrNotFound = errors.New("envelope: not found")
)

// FieldError names an input field and the rule it breaks. It unwraps to
// [ErrInvalidInput]. The message never contains the field's value: several
// fields (passphrases, codes) are secrets.
type FieldError struct {
	// Field is the name of the offending field, e.g. "passphrase".
	Field string
	// Rule is the rule the field breaks, e.g. "at least 12 characters".
	Rule string
}

// Error implements error as "envelope: <field>: <rule>".
func (e *FieldError) Error() string {
	return fmt.Sprintf("envelope: %s: %s", e.Field, e.Rule)
}

// Unwrap returns [ErrInvalidInput].
func (e *FieldError) Unwrap() error { return ErrInvalidInput }

// FormatError describes why an envelope or record is malformed or unsupported.
// It unwraps to its Kind ([ErrMalformed] or [ErrUnsupported]).
type FormatError struct {
	// Where names the part being read, e.g. "cms: recipient info".
	Where string
	// Rule is the rule that part breaks.
	Rule string
	// Kind is [ErrMalformed] or [ErrUnsupported].
	Kind error
}

// Error implements error as "envelope: <where>: <rule>".
func (e *FormatError) Error() string {
	return fmt.Sprintf("envelope: %s: %s", e.Where, e.Rule)
}

// Unwrap returns the error's kind.
func (e *FormatError) Unwrap() error { return e.Kind }

func malformed(where, rule string) error {
	return &FormatError{Where: where, Rule: rule, Kind: ErrMalformed}
}

func unsupported(where, rule string) error {
	return &FormatError{Where: where, Rule: rule, Kind: ErrUnsupported}
}
