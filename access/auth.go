package access

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"image"
	"io"
	"log/slog"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/registra-pki/registra/internal/logattr"
)

// Defaults of [Config].
const (
	// DefaultTOTPWindow accepts the codes of one time step either side of
	// now (RFC 6238 §5.2 recommends at most one step of network delay).
	DefaultTOTPWindow = 1
	// DefaultMaxFailures is how many consecutive failed logins lock an
	// account.
	DefaultMaxFailures = 5
	// DefaultLockout is how long a lock lasts.
	DefaultLockout = 15 * time.Minute
	// DefaultSessionLifetime is a session's absolute lifetime.
	DefaultSessionLifetime = 8 * time.Hour
	// DefaultSessionIdle ends a session unused for that long.
	DefaultSessionIdle = 30 * time.Minute
	// totpPeriod, totpDigits and the SHA-1 HMAC are what authenticator
	// apps and oathtool assume (RFC 6238 §4, Google Authenticator's key
	// URI format); we do not vary them.
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	maxWindow  = 3
)

// Config configures an [Authenticator].
type Config struct {
	// Issuer names the service in authenticator apps ("registra"). Required.
	Issuer string
	// Password are the Argon2id parameters of new hashes. Zero fields mean
	// [DefaultPasswordParams]'s.
	Password PasswordParams
	// Policy is the rule for new passwords. Zero means its defaults.
	Policy PasswordPolicy
	// TOTPWindow is how many time steps of 30 s either side of now a code
	// may come from. Zero means [DefaultTOTPWindow]; at most 3.
	TOTPWindow int
	// MaxFailures is how many consecutive failures lock the account. Zero
	// means [DefaultMaxFailures].
	MaxFailures int
	// Lockout is how long a lock lasts. Zero means [DefaultLockout].
	Lockout time.Duration
	// SessionLifetime is a session's absolute lifetime. Zero means
	// [DefaultSessionLifetime].
	SessionLifetime time.Duration
	// SessionIdle ends a session unused for that long. Zero means
	// [DefaultSessionIdle]; it may not exceed SessionLifetime.
	SessionIdle time.Duration
	// Rand is the source of salts, TOTP secrets and session tokens. Nil
	// means crypto/rand.
	Rand io.Reader
	// Gate bounds the password hashes and verifications that run at once.
	// Nil means no bound.
	Gate Gate
	// Logger receives lockouts. Nil means no logging.
	Logger *slog.Logger
}

// Validate checks the fields together and names the first bad one.
func (c Config) Validate() error {
	d := c.withDefaults()
	switch {
	case c.Issuer == "" || checkName("Config.Issuer", c.Issuer) != nil:
		return &FieldError{Field: "Config.Issuer", Rule: "required, at most 200 bytes without control characters"}
	case c.TOTPWindow < 0 || c.TOTPWindow > maxWindow:
		return &FieldError{Field: "Config.TOTPWindow", Rule: fmt.Sprintf("must be between 0 and %d", maxWindow)}
	case c.MaxFailures < 0:
		return &FieldError{Field: "Config.MaxFailures", Rule: "must not be negative"}
	case c.Lockout < 0:
		return &FieldError{Field: "Config.Lockout", Rule: "must not be negative"}
	case c.SessionLifetime < 0:
		return &FieldError{Field: "Config.SessionLifetime", Rule: "must not be negative"}
	case c.SessionIdle < 0 || d.SessionIdle > d.SessionLifetime:
		return &FieldError{Field: "Config.SessionIdle", Rule: "must be between 0 and SessionLifetime"}
	}
	if err := d.Password.validate("Config.Password"); err != nil {
		return err
	}
	return c.Policy.validate()
}

func (c Config) withDefaults() Config {
	c.Password = c.Password.withDefaults()
	if c.TOTPWindow == 0 {
		c.TOTPWindow = DefaultTOTPWindow
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = DefaultMaxFailures
	}
	if c.Lockout == 0 {
		c.Lockout = DefaultLockout
	}
	if c.SessionLifetime == 0 {
		c.SessionLifetime = DefaultSessionLifetime
	}
	if c.SessionIdle == 0 {
		c.SessionIdle = DefaultSessionIdle
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Gate bounds how many slow hashes run at once. Each Argon2id hash holds
// its memory (64 MiB with [DefaultPasswordParams]) while it runs, so that a
// flood of logins, even for unknown usernames, could otherwise exhaust the
// machine's memory. A Gate is shared by every user of the same memory: the
// registra package gives one to both the authenticator and the code vault.
type Gate interface {
	// Enter returns when a hash may start, or fails with ctx's error or the
	// gate's own (too many already waiting). After a nil error the caller
	// must call Leave.
	Enter(ctx context.Context) error
	// Leave ends a hash started by Enter.
	Leave()
}

// Authenticator checks passwords and TOTP codes and opens sessions. Its
// methods take operator records and return updated copies; it keeps no
// state of its own and is safe for concurrent use.
type Authenticator struct {
	cfg Config
	// dummy is a hash of a random password with cfg's parameters, verified
	// for unknown usernames so that they cost as much as known ones.
	dummy PasswordHash
}

// NewAuthenticator returns an authenticator for cfg, after [Config.Validate].
func NewAuthenticator(cfg Config) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	var pw [16]byte
	if _, err := io.ReadFull(cfg.Rand, pw[:]); err != nil {
		return nil, fmt.Errorf("access: reading random: %w", err)
	}
	dummy, err := HashPassword(Password(pw[:]), cfg.Password, cfg.Rand)
	if err != nil {
		return nil, err
	}
	return &Authenticator{cfg: cfg, dummy: dummy}, nil
}

// SetPassword checks pw against the policy and returns op with its hash. A
// successful change also clears failures and the lock.
func (a *Authenticator) SetPassword(ctx context.Context, op Operator, pw Password) (Operator, error) {
	if err := a.cfg.Policy.Check(pw, op.Username); err != nil {
		return op, err
	}
	if err := a.enter(ctx); err != nil {
		return op, err
	}
	h, err := HashPassword(pw, a.cfg.Password, a.cfg.Rand)
	a.leave()
	if err != nil {
		return op, err
	}
	op.Credentials.PasswordHash = h
	op.Credentials.Failures = 0
	op.Credentials.LockedUntil = time.Time{}
	return op, nil
}

// Authenticate checks a login of op with password pw and TOTP code at now.
// It returns the operator record to persist, whether or not the login
// succeeded: failures count towards the lockout, success resets them and
// records the code's time step so that it cannot be replayed.
//
// The password is verified through the config's [Gate]: when the gate
// refuses (ctx ended, or too many hashes waiting), Authenticate returns an
// empty Operator and the gate's error, and nothing counts as a failure.
//
// Errors: [*LockedError] when the account is locked (nothing checked,
// nothing changed); [*AuthError] (wrapping [ErrAuthentication], and
// [ErrLocked] when this failure locks the account) for a wrong password, a
// wrong, malformed or replayed code, or a disabled operator;
// [ErrEnrolmentRequired] when the password is right but no TOTP enrolment is
// confirmed. Both factors are always checked, so the time taken does not tell
// which one failed.
func (a *Authenticator) Authenticate(ctx context.Context, op Operator, pw Password, code Passcode, now time.Time) (Operator, error) {
	if now.Before(op.Credentials.LockedUntil) {
		return op, &LockedError{Until: op.Credentials.LockedUntil}
	}
	pwOK, err := a.verifyPassword(ctx, op, pw)
	if err != nil {
		return Operator{}, err
	}
	step, codeFailure := a.verifyPasscode(op.Credentials.TOTP, code, now)
	switch {
	case op.Disabled:
		return op, &AuthError{Failure: FailureDisabled, Failures: op.Credentials.Failures}
	case !pwOK:
		return a.fail(op, FailurePassword, now)
	case !op.Credentials.TOTP.Confirmed:
		return op, ErrEnrolmentRequired
	case codeFailure != 0:
		return a.fail(op, codeFailure, now)
	}
	op.Credentials.TOTP.LastStep = step
	op.Credentials.Failures = 0
	op.Credentials.LockedUntil = time.Time{}
	return op, nil
}

// CheckPassword checks op's password alone, with the same lockout rules as
// [Authenticator.Authenticate], and the same empty Operator when the gate
// refuses. It is the first step of TOTP enrolment, before
// [Authenticator.EnrollTOTP]; it is not a login.
func (a *Authenticator) CheckPassword(ctx context.Context, op Operator, pw Password, now time.Time) (Operator, error) {
	if now.Before(op.Credentials.LockedUntil) {
		return op, &LockedError{Until: op.Credentials.LockedUntil}
	}
	ok, err := a.verifyPassword(ctx, op, pw)
	if err != nil {
		return Operator{}, err
	}
	switch {
	case op.Disabled:
		return op, &AuthError{Failure: FailureDisabled, Failures: op.Credentials.Failures}
	case !ok:
		return a.fail(op, FailurePassword, now)
	}
	op.Credentials.Failures = 0
	return op, nil
}

// RejectUnknown is what a caller does when no operator has the username:
// it verifies pw against a dummy hash, so that the answer takes as long as
// for a known username, and returns an [*AuthError] (or the gate's error).
func (a *Authenticator) RejectUnknown(ctx context.Context, pw Password) error {
	if err := a.enter(ctx); err != nil {
		return err
	}
	_, err := VerifyPassword(a.dummy, pw)
	a.leave()
	if err != nil {
		return err
	}
	return &AuthError{Failure: FailureUnknownUser}
}

// verifyPassword reports whether pw is op's password; the error is the
// gate's.
func (a *Authenticator) verifyPassword(ctx context.Context, op Operator, pw Password) (bool, error) {
	h := op.Credentials.PasswordHash
	if h == "" {
		h = a.dummy
	}
	if err := a.enter(ctx); err != nil {
		return false, err
	}
	ok, err := VerifyPassword(h, pw)
	a.leave()
	// A malformed stored hash never matches; it is the store's corruption,
	// not the user's fault, and is reported by the failure like any other.
	return err == nil && ok && op.Credentials.PasswordHash != "", nil
}

// enter waits for the config's gate, if any; its error is returned
// wrapped, unclassified: the gate's caller classifies it.
func (a *Authenticator) enter(ctx context.Context) error {
	if a.cfg.Gate == nil {
		return ctx.Err()
	}
	if err := a.cfg.Gate.Enter(ctx); err != nil {
		return fmt.Errorf("access: waiting to hash a password: %w", err)
	}
	return nil
}

func (a *Authenticator) leave() {
	if a.cfg.Gate != nil {
		a.cfg.Gate.Leave()
	}
}

func (a *Authenticator) fail(op Operator, f AuthFailure, now time.Time) (Operator, error) {
	op.Credentials.Failures++
	e := &AuthError{Failure: f, Failures: op.Credentials.Failures}
	if op.Credentials.Failures >= a.cfg.MaxFailures {
		op.Credentials.LockedUntil = now.Add(a.cfg.Lockout)
		op.Credentials.Failures = 0
		e.Failures = 0
		e.LockedUntil = op.Credentials.LockedUntil
		a.cfg.Logger.Info("access: operator locked after repeated login failures",
			slog.String(logattr.Actor, op.ID), slog.String(logattr.Org, op.Org),
			slog.Time("locked_until", e.LockedUntil))
	}
	return op, e
}

// Enrollment is a new TOTP secret for an operator's authenticator app.
type Enrollment struct {
	// Secret is the base32 secret, for manual entry.
	Secret TOTPSecret
	// URI is the otpauth:// key URI, shown as a QR code.
	URI ProvisioningURI
}

// QR returns the URI as a QR code image of size × size pixels.
func (e Enrollment) QR(size int) (image.Image, error) {
	k, err := otp.NewKeyFromURL(e.URI.Reveal())
	if err != nil {
		return nil, fmt.Errorf("access: totp uri: %w", err)
	}
	img, err := k.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("access: totp qr code: %w", err)
	}
	return img, nil
}

// EnrollTOTP draws a new TOTP secret for op (SHA-1, 6 digits, 30 s: what
// every authenticator app supports) and returns op with the enrolment pending
// confirmation. An operator with a confirmed enrolment is refused: a master
// RAO resets it first ([ResetTOTP]), so that a stolen password cannot move
// the second factor.
func (a *Authenticator) EnrollTOTP(op Operator) (Operator, Enrollment, error) {
	if op.Credentials.TOTP.Confirmed {
		return op, Enrollment{}, &FieldError{Field: "operator.totp", Rule: "already enrolled; reset it first"}
	}
	if err := checkUsername(op.Username); err != nil {
		return op, Enrollment{}, err
	}
	k, err := totp.Generate(totp.GenerateOpts{Issuer: a.cfg.Issuer, AccountName: op.Username,
		Period: totpPeriod, SecretSize: 20, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, Rand: a.cfg.Rand})
	if err != nil {
		return op, Enrollment{}, fmt.Errorf("access: generating totp secret: %w", err)
	}
	op.Credentials.TOTP = TOTP{Secret: TOTPSecret(k.Secret())}
	return op, Enrollment{Secret: TOTPSecret(k.Secret()), URI: ProvisioningURI(k.URL())}, nil
}

// ConfirmTOTP completes an enrolment with a code from the authenticator app.
// A wrong code counts as a failure, like a login.
func (a *Authenticator) ConfirmTOTP(op Operator, code Passcode, now time.Time) (Operator, error) {
	if now.Before(op.Credentials.LockedUntil) {
		return op, &LockedError{Until: op.Credentials.LockedUntil}
	}
	t := op.Credentials.TOTP
	if t.Secret == "" || t.Confirmed {
		return op, &FieldError{Field: "operator.totp", Rule: "no enrolment pending"}
	}
	step, f := a.verifyPasscode(t, code, now)
	if f != 0 {
		return a.fail(op, f, now)
	}
	op.Credentials.TOTP.Confirmed = true
	op.Credentials.TOTP.LastStep = step
	op.Credentials.Failures = 0
	return op, nil
}

// ResetTOTP removes op's enrolment, so that they enrol again at their next
// login. The root authorises it with [AuthorizeOperatorChange].
func ResetTOTP(op Operator) Operator {
	op.Credentials.TOTP = TOTP{}
	return op
}

// verifyPasscode returns the time step code belongs to, or why it is refused.
// It compares against every step of the window in constant time per code.
func (a *Authenticator) verifyPasscode(t TOTP, code Passcode, now time.Time) (int64, AuthFailure) {
	c := code.Reveal()
	if t.Secret == "" || len(c) != totpDigits.Length() {
		return 0, FailurePasscode
	}
	for _, r := range c {
		if r < '0' || r > '9' {
			return 0, FailurePasscode
		}
	}
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	cur := now.Unix() / totpPeriod
	matched := int64(-1)
	w := int64(a.cfg.TOTPWindow)
	for s := cur - w; s <= cur+w; s++ {
		if s < 0 {
			continue
		}
		want, err := totp.GenerateCodeCustom(t.Secret.Reveal(), time.Unix(s*totpPeriod, 0), opts)
		if err != nil {
			return 0, FailurePasscode
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(c)) == 1 {
			matched = s
		}
	}
	switch {
	case matched < 0:
		return 0, FailurePasscode
	case matched <= t.LastStep:
		// RFC 6238 §5.2: the verifier must not accept the second attempt
		// of the same OTP after the first succeeded.
		return 0, FailureReplay
	}
	return matched, 0
}
