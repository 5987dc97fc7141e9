package access

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors.
var (
	// ErrInvalidInput: a field breaks a rule.
	ErrInvalidInput = errors.New("access: invalid input")
	// ErrPermission: the operator may not do this, or not in that
	// organisation.
	ErrPermission = errors.New("access: permission denied")
	// ErrAuthentication: the credentials were refused. Callers tell the
	// user nothing more.
	ErrAuthentication = errors.New("access: authentication failed")
	// ErrLocked: too many failures; the account is locked for a while.
	ErrLocked = errors.New("access: account locked")
	// ErrEnrolmentRequired: the password is right but the operator has no
	// confirmed TOTP enrolment yet.
	ErrEnrolmentRequired = errors.New("access: totp enrolment required")
	// ErrSessionExpired: the session ended, expired or does not match.
	ErrSessionExpired = errors.New("access: session expired")
)

// FieldError reports a field that breaks a rule. It unwraps to
// [ErrInvalidInput].
type FieldError struct {
	// Field names the field, such as "operator.username".
	Field string
	// Rule is the rule broken.
	Rule string
}

// Error returns the message, as "<pkg>: <what>: <rule>".
func (e *FieldError) Error() string { return fmt.Sprintf("access: %s: %s", e.Field, e.Rule) }

// Unwrap returns [ErrInvalidInput].
func (e *FieldError) Unwrap() error { return ErrInvalidInput }

// PermissionError reports a refused authorisation. It unwraps to
// [ErrPermission].
type PermissionError struct {
	// Operator is the acting operator's ID.
	Operator string
	// Permission is what was asked for.
	Permission Permission
	// Org is the organisation of the resource.
	Org string
	// Rule says why, such as "no role grants it".
	Rule string
}

// Error returns the message, as "<pkg>: <what>: <rule>".
func (e *PermissionError) Error() string {
	return fmt.Sprintf("access: %s: %s in organisation %q: %s", e.Operator, e.Permission, e.Org, e.Rule)
}

// Unwrap returns [ErrPermission].
func (e *PermissionError) Unwrap() error { return ErrPermission }

// AuthFailure says which check refused a login. It is for the audit trail
// only: never show it to the person logging in.
type AuthFailure uint8

// Authentication failures.
const (
	// FailureUnknownUser: no operator has the username.
	FailureUnknownUser AuthFailure = iota + 1
	// FailurePassword: the password is wrong.
	FailurePassword
	// FailurePasscode: the TOTP code is wrong or malformed.
	FailurePasscode
	// FailureReplay: the TOTP code's time step was already used.
	FailureReplay
	// FailureDisabled: the operator is disabled.
	FailureDisabled
)

var failureNames = []string{"", "unknown_user", "password", "passcode", "replay", "disabled"}

// String returns the wire name, such as "replay".
func (f AuthFailure) String() string {
	if int(f) < len(failureNames) && f > 0 {
		return failureNames[f]
	}
	return fmt.Sprintf("AuthFailure(%d)", f)
}

// AuthError reports a refused login. Its message is the same whatever the
// cause; Failure tells the audit trail which check failed. It unwraps to
// [ErrAuthentication].
type AuthError struct {
	// Failure is the check that failed.
	Failure AuthFailure
	// Failures is the count of consecutive failures after this one (0 when
	// this failure locked the account).
	Failures int
	// LockedUntil is set when this failure locked the account.
	LockedUntil time.Time
}

// Error returns the message, as "<pkg>: <what>: <rule>".
func (e *AuthError) Error() string { return "access: login: authentication failed" }

// Unwrap returns [ErrAuthentication], and [ErrLocked] too when this failure
// locked the account.
func (e *AuthError) Unwrap() []error {
	if !e.LockedUntil.IsZero() {
		return []error{ErrAuthentication, ErrLocked}
	}
	return []error{ErrAuthentication}
}

// LockedError reports a login attempted while the account is locked; the
// credentials were not checked. It unwraps to [ErrLocked].
type LockedError struct {
	// Until is when the lock ends.
	Until time.Time
}

// Error returns the message, as "<pkg>: <what>: <rule>".
func (e *LockedError) Error() string {
	return "access: login: account locked until " + e.Until.UTC().Format(time.RFC3339)
}

// Unwrap returns [ErrLocked].
func (e *LockedError) Unwrap() error { return ErrLocked }
