package ca

import (
	"fmt"
	"log/slog"
)

// redacted is what a [Password] prints instead of its value.
const redacted = "[redacted]"

// Password encrypts software keys at rest ([HierarchyConfig.KeyPassword]).
// It never prints: String, Format (every verb) and LogValue give
// "[redacted]", so a logged or printed configuration does not leak it.
type Password []byte

// String returns "[redacted]".
func (Password) String() string { return redacted }

// Format prints "[redacted]" for every verb, %#v and %x included.
func (Password) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue returns "[redacted]".
func (Password) LogValue() slog.Value { return slog.StringValue(redacted) }
