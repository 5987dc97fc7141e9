package hsm

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultMaxSessions is the session pool size when Config.MaxSessions is
// zero: enough for the signing goroutines of one server on a small machine,
// well under the session limits of network HSMs.
const DefaultMaxSessions = 16

// DefaultPoolWaitTimeout is how long an operation waits for a free session
// when Config.PoolWaitTimeout is zero. A stuck HSM then surfaces as
// [ErrBusy] instead of a hang (STYLE.md §2.5).
const DefaultPoolWaitTimeout = 10 * time.Second

// maxTokenLabel is the size of CK_TOKEN_INFO.label (PKCS#11 v2.40 §3.2).
const maxTokenLabel = 32

// Config selects a PKCS#11 module and token and says how to log in. The PIN
// is never a field of its own: it comes from an environment variable or a
// file, so that it shows neither in process listings (a command-line flag
// would) nor in configuration dumps. The example server and `registra init`
// fill a Config from their own settings and call [Open].
type Config struct {
	// ModulePath is the absolute path of the PKCS#11 module, e.g.
	// /usr/lib/softhsm/libsofthsm2.so. Required. Symbolic links are
	// resolved, so that two spellings of one library share one initialised
	// module (a second C_Initialize fails with
	// CKR_CRYPTOKI_ALREADY_INITIALIZED).
	ModulePath string

	// TokenLabel selects the token by its label (at most 32 bytes).
	// Required.
	TokenLabel string

	// PINEnv names the environment variable that holds the user PIN.
	// Exactly one of PINEnv and PINFile is set.
	PINEnv string

	// PINFile is the path of a file that holds the user PIN; one trailing
	// newline is ignored. Exactly one of PINEnv and PINFile is set. A file
	// readable by group or others is logged as a warning.
	PINFile string

	// MaxSessions caps the PKCS#11 session pool, the persistent logged-in
	// session included. Zero means [DefaultMaxSessions]; otherwise it is at
	// least 2. The token's own limit is obeyed as well.
	MaxSessions int

	// PoolWaitTimeout bounds the wait for a free session. Zero means
	// [DefaultPoolWaitTimeout]; negative values are invalid.
	PoolWaitTimeout time.Duration

	// Logger receives the opening, key creation and deletion events. Nil
	// means a logger that discards everything. The PIN never reaches it.
	Logger *slog.Logger
}

// Validate checks every field and returns one *[FieldError] per bad field,
// joined; the result unwraps to [ErrInvalidInput]. It reads neither the
// environment nor the PIN file: [Open] does.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, rule string) { errs = append(errs, &FieldError{Field: field, Rule: rule}) }
	switch {
	case c.ModulePath == "":
		bad("ModulePath", "required")
	case !filepath.IsAbs(c.ModulePath):
		// A bare name would make dlopen search the library path.
		bad("ModulePath", "must be an absolute path")
	}
	switch {
	case c.TokenLabel == "":
		bad("TokenLabel", "required")
	case len(c.TokenLabel) > maxTokenLabel:
		bad("TokenLabel", fmt.Sprintf("at most %d bytes", maxTokenLabel))
	}
	switch {
	case c.PINEnv == "" && c.PINFile == "":
		bad("PINEnv", "one of PINEnv and PINFile is required")
	case c.PINEnv != "" && c.PINFile != "":
		bad("PINFile", "PINEnv and PINFile are mutually exclusive")
	case c.PINEnv != "" && strings.ContainsAny(c.PINEnv, "=\x00"):
		bad("PINEnv", "must be an environment variable name")
	}
	if c.MaxSessions < 0 || c.MaxSessions == 1 {
		bad("MaxSessions", "zero (default) or at least 2")
	}
	if c.PoolWaitTimeout < 0 {
		bad("PoolWaitTimeout", "zero (default) or positive")
	}
	return errors.Join(errs...)
}

// maxSessions returns the effective pool size.
func (c Config) maxSessions() int {
	if c.MaxSessions == 0 {
		return DefaultMaxSessions
	}
	return c.MaxSessions
}

// poolWaitTimeout returns the effective pool wait timeout.
func (c Config) poolWaitTimeout() time.Duration {
	if c.PoolWaitTimeout == 0 {
		return DefaultPoolWaitTimeout
	}
	return c.PoolWaitTimeout
}

// logger returns the configured logger or a discarding one.
func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// modulePath resolves symbolic links in ModulePath.
func (c Config) modulePath() (string, error) {
	p, err := filepath.EvalSymlinks(c.ModulePath)
	if err != nil {
		return "", &Error{Op: "open", Key: c.ModulePath, Kind: ErrModule, Err: err}
	}
	return p, nil
}

// readPIN fetches the PIN from the environment or the PIN file.
func (c Config) readPIN(log *slog.Logger) (secretPIN, error) {
	if c.PINEnv != "" {
		v, ok := os.LookupEnv(c.PINEnv)
		if !ok || v == "" {
			return "", &FieldError{Field: "PINEnv", Rule: "environment variable " + c.PINEnv + " is unset or empty"}
		}
		return secretPIN(v), nil
	}
	fi, err := os.Stat(c.PINFile)
	if err != nil {
		return "", &Error{Op: "read pin file", Key: c.PINFile, Kind: ErrInvalidInput, Err: err}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		log.Warn("hsm: pin file is readable by group or others", "path", c.PINFile, "mode", fi.Mode().Perm().String())
	}
	b, err := os.ReadFile(c.PINFile)
	if err != nil {
		return "", &Error{Op: "read pin file", Key: c.PINFile, Kind: ErrInvalidInput, Err: err}
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", &FieldError{Field: "PINFile", Rule: "file is empty"}
	}
	return secretPIN(v), nil
}

// secretPIN is a user PIN. It prints and logs as a redaction marker.
type secretPIN string

const redacted = "[REDACTED]"

// String implements fmt.Stringer with a redaction marker.
func (secretPIN) String() string { return redacted }

// GoString implements fmt.GoStringer with a redaction marker.
func (secretPIN) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb prints the redaction marker.
func (secretPIN) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue implements slog.LogValuer with a redaction marker.
func (secretPIN) LogValue() slog.Value { return slog.StringValue(redacted) }

// reveal returns the PIN for the one call that needs it.
func (p secretPIN) reveal() string { return string(p) }
