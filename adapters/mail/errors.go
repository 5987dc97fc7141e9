package mail

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// Sentinel errors.
var (
	// ErrInvalidInput reports a bad configuration or delivery; it is
	// carried by [*FieldError].
	ErrInvalidInput = errors.New("mail: invalid input")
	// ErrNotFound reports a delivery ID the queue does not hold.
	ErrNotFound = errors.New("mail: delivery not found")
	// ErrExists reports an Enqueue of an ID the queue already holds.
	ErrExists = errors.New("mail: delivery already queued")
	// ErrState reports an operation the delivery's state does not allow,
	// e.g. resending a delivery that is still queued.
	ErrState = errors.New("mail: operation not allowed in this state")
	// ErrQueue reports a queue file that cannot be read or written.
	ErrQueue = errors.New("mail: queue")
)

// FieldError names a field and the rule it breaks; it unwraps to
// [ErrInvalidInput].
type FieldError struct {
	// Field is the offending field.
	Field string
	// Rule is the rule it breaks.
	Rule string
}

// Error implements error as "mail: <field>: <rule>".
func (e *FieldError) Error() string { return fmt.Sprintf("mail: %s: %s", e.Field, e.Rule) }

// Unwrap returns [ErrInvalidInput].
func (e *FieldError) Unwrap() error { return ErrInvalidInput }

// Secret is the SMTP password. It prints and logs as "[REDACTED]".
type Secret string

const redacted = "[REDACTED]"

// String returns "[REDACTED]".
func (Secret) String() string { return redacted }

// GoString returns "[REDACTED]".
func (Secret) GoString() string { return redacted }

// Format writes "[REDACTED]" for every verb.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue returns "[REDACTED]".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[REDACTED]".
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
