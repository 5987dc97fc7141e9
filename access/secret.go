package access

import (
	"fmt"
	"log/slog"
)

// redacted is what every secret prints as.
const redacted = "[REDACTED]"

// Password is a password in clear, as typed. It prints and logs as
// [REDACTED].
type Password string

// TOTPSecret is a base32 TOTP shared secret (RFC 6238). It prints and logs as
// [REDACTED]; the store keeps it encrypted at rest.
type TOTPSecret string

// Passcode is a one-time code typed by the operator. It prints and logs as
// [REDACTED].
type Passcode string

// SessionToken is the opaque bearer token of a session. It prints and logs as
// [REDACTED]; only its hash is stored ([SessionID]).
type SessionToken string

// ProvisioningURI is an otpauth:// URI for authenticator apps; it contains the
// TOTP secret, so it prints and logs as [REDACTED].
type ProvisioningURI string

// PasswordHash is an Argon2id PHC string ([HashPassword]). It is not a secret
// in the strict sense but can be attacked offline, so it prints and logs as
// [REDACTED] too. It encodes to JSON as itself, so that the store can persist
// it.
type PasswordHash string

// Reveal returns the password.
func (p Password) Reveal() string { return string(p) }

// Reveal returns the secret.
func (s TOTPSecret) Reveal() string { return string(s) }

// Reveal returns the code.
func (c Passcode) Reveal() string { return string(c) }

// Reveal returns the token.
func (t SessionToken) Reveal() string { return string(t) }

// Reveal returns the URI.
func (u ProvisioningURI) Reveal() string { return string(u) }

// Reveal returns the encoded hash.
func (h PasswordHash) Reveal() string { return string(h) }

// String returns [REDACTED].
func (Password) String() string { return redacted }

// String returns [REDACTED].
func (TOTPSecret) String() string { return redacted }

// String returns [REDACTED].
func (Passcode) String() string { return redacted }

// String returns [REDACTED].
func (SessionToken) String() string { return redacted }

// String returns [REDACTED].
func (ProvisioningURI) String() string { return redacted }

// String returns [REDACTED].
func (PasswordHash) String() string { return redacted }

// GoString returns [REDACTED] (for %#v).
func (Password) GoString() string { return redacted }

// GoString returns [REDACTED] (for %#v).
func (TOTPSecret) GoString() string { return redacted }

// GoString returns [REDACTED] (for %#v).
func (Passcode) GoString() string { return redacted }

// GoString returns [REDACTED] (for %#v).
func (SessionToken) GoString() string { return redacted }

// GoString returns [REDACTED] (for %#v).
func (ProvisioningURI) GoString() string { return redacted }

// GoString returns [REDACTED] (for %#v).
func (PasswordHash) GoString() string { return redacted }

// Format prints [REDACTED] for every verb, %x and %q included.
func (Password) Format(f fmt.State, _ rune) { writeRedacted(f) }

// Format prints [REDACTED] for every verb, %x and %q included.
func (TOTPSecret) Format(f fmt.State, _ rune) { writeRedacted(f) }

// Format prints [REDACTED] for every verb, %x and %q included.
func (Passcode) Format(f fmt.State, _ rune) { writeRedacted(f) }

// Format prints [REDACTED] for every verb, %x and %q included.
func (SessionToken) Format(f fmt.State, _ rune) { writeRedacted(f) }

// Format prints [REDACTED] for every verb, %x and %q included.
func (ProvisioningURI) Format(f fmt.State, _ rune) { writeRedacted(f) }

// Format prints [REDACTED] for every verb, %x and %q included.
func (PasswordHash) Format(f fmt.State, _ rune) { writeRedacted(f) }

// LogValue logs [REDACTED].
func (Password) LogValue() slog.Value { return slog.StringValue(redacted) }

// LogValue logs [REDACTED].
func (TOTPSecret) LogValue() slog.Value { return slog.StringValue(redacted) }

// LogValue logs [REDACTED].
func (Passcode) LogValue() slog.Value { return slog.StringValue(redacted) }

// LogValue logs [REDACTED].
func (SessionToken) LogValue() slog.Value { return slog.StringValue(redacted) }

// LogValue logs [REDACTED].
func (ProvisioningURI) LogValue() slog.Value { return slog.StringValue(redacted) }

// LogValue logs [REDACTED].
func (PasswordHash) LogValue() slog.Value { return slog.StringValue(redacted) }

func writeRedacted(f fmt.State) {
	// A write error has nowhere to go: fmt ignores Formatter errors too.
	_, _ = f.Write([]byte(redacted))
}

// Compile-time checks that every secret redacts in fmt and slog.
var (
	_ fmt.Formatter  = Password("")
	_ fmt.Stringer   = TOTPSecret("")
	_ fmt.GoStringer = Passcode("")
	_ slog.LogValuer = SessionToken("")
	_ fmt.Formatter  = ProvisioningURI("")
	_ slog.LogValuer = PasswordHash("")
	_ slog.LogValuer = Operator{}
	_ slog.LogValuer = Credentials{}
	_ slog.LogValuer = TOTP{}
)

// errEncodeSecret refuses to put a secret in a JSON document: encoding
// "[REDACTED]" instead would lose data silently (a store persisting a TOTP
// secret that way could never verify a code again), so the encoder fails
// loudly and the caller uses Reveal where a secret must really leave.
func errEncodeSecret(kind string) error {
	return fmt.Errorf("access: %s: refusing to encode a secret as JSON; use Reveal", kind)
}

// MarshalJSON fails: see [Password.Reveal].
func (Password) MarshalJSON() ([]byte, error) { return nil, errEncodeSecret("password") }

// MarshalJSON fails: see [Passcode.Reveal].
func (Passcode) MarshalJSON() ([]byte, error) { return nil, errEncodeSecret("passcode") }

// MarshalJSON fails: hand the token to its client with Reveal.
func (SessionToken) MarshalJSON() ([]byte, error) { return nil, errEncodeSecret("session token") }

// MarshalJSON fails: hand the URI to the enrolling operator with Reveal.
func (ProvisioningURI) MarshalJSON() ([]byte, error) { return nil, errEncodeSecret("provisioning uri") }

// MarshalJSON fails: the store keeps the secret encrypted at rest
// (DESIGN.md "Secrets"), so it encrypts Reveal's value itself.
func (TOTPSecret) MarshalJSON() ([]byte, error) { return nil, errEncodeSecret("totp secret") }

// LogValue logs the operator without credentials.
func (op Operator) LogValue() slog.Value {
	roles := make([]string, len(op.Roles))
	for i, r := range op.Roles {
		roles[i] = r.String()
	}
	return slog.GroupValue(slog.String("id", op.ID), slog.String("username", op.Username),
		slog.String("org", op.Org), slog.Any("roles", roles), slog.Bool("disabled", op.Disabled))
}

// LogValue logs the failure counters only.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("failures", c.Failures), slog.Time("locked_until", c.LockedUntil),
		slog.Bool("totp_confirmed", c.TOTP.Confirmed))
}

// LogValue logs the enrolment state without the secret.
func (t TOTP) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("confirmed", t.Confirmed), slog.Int64("last_step", t.LastStep))
}
