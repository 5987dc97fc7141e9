package recognition

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted is what secrets print as.
const redacted = "[REDACTED]"

// Secret is key material (an HMAC key, an OTP seed). It prints, formats and
// logs as a redaction marker, so it cannot reach a log by accident.
type Secret []byte

// String returns the redaction marker.
func (Secret) String() string { return redacted }

// GoString returns the redaction marker.
func (Secret) GoString() string { return redacted }

// LogValue returns the redaction marker.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// Format writes the redaction marker for every verb.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// OTPCode is a one-time code as sent to the applicant. It prints, formats and
// logs as a redaction marker; [OTPCode.Reveal] returns the digits for the
// [Sender] to deliver.
type OTPCode string

// Reveal returns the digits.
func (c OTPCode) Reveal() string { return string(c) }

// String returns the redaction marker.
func (OTPCode) String() string { return redacted }

// GoString returns the redaction marker.
func (OTPCode) GoString() string { return redacted }

// LogValue returns the redaction marker.
func (OTPCode) LogValue() slog.Value { return slog.StringValue(redacted) }

// Format writes the redaction marker for every verb.
func (OTPCode) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }
