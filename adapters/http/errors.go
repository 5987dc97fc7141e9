package httpapi

import (
	"errors"
	"fmt"
)

// ErrInvalidInput reports a configuration this package refuses.
var ErrInvalidInput = errors.New("httpapi: invalid input")

// FieldError names a bad configuration field and the rule it breaks. It
// unwraps to [ErrInvalidInput].
type FieldError struct {
	// Field is the name of the field, such as "CA".
	Field string
	// Rule is the rule broken.
	Rule string
}

// Error returns "httpapi: <field>: <rule>".
func (e *FieldError) Error() string { return fmt.Sprintf("httpapi: %s: %s", e.Field, e.Rule) }

// Unwrap returns [ErrInvalidInput].
func (e *FieldError) Unwrap() error { return ErrInvalidInput }
