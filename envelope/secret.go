package envelope

import (
	"fmt"
	"io"
	"log/slog"
)

// Redacted is what every secret type of this package prints instead of its
// value, whatever the verb or handler.
const Redacted = "[REDACTED]"

// Passphrase is the secret that opens an envelope. It prints as [Redacted]
// through fmt (every verb, %#v included), slog (text and JSON handlers) and
// encoding/json, so that it cannot reach a log or an error message by
// accident (STYLE §2.8). Convert it with string(p) only where the clear value
// is needed: the key-derivation function.
type Passphrase string

// String returns [Redacted].
func (Passphrase) String() string { return Redacted }

// GoString returns [Redacted].
func (Passphrase) GoString() string { return Redacted }

// Format writes [Redacted] for every verb.
func (Passphrase) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Redacted) }

// LogValue returns [Redacted] as a string value.
func (Passphrase) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText returns [Redacted], so encoding/json and slog's JSON handler
// never see the value.
func (Passphrase) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// Code is one activation code (a PIN, a PUK, an emergency code). It redacts
// itself exactly as [Passphrase] does.
type Code string

// String returns [Redacted].
func (Code) String() string { return Redacted }

// GoString returns [Redacted].
func (Code) GoString() string { return Redacted }

// Format writes [Redacted] for every verb.
func (Code) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Redacted) }

// LogValue returns [Redacted] as a string value.
func (Code) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText returns [Redacted].
func (Code) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
