package registra

import (
	"errors"
	"fmt"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/store"
)

// Sentinel errors. Every error a Platform method returns for a refused
// request wraps exactly one of them, so that adapters map them with
// errors.Is (HTTP problem details, CLI exit codes). Errors of the building
// blocks are wrapped, not replaced: errors.Is(err, lifecycle.ErrTransition)
// keeps working next to errors.Is(err, registra.ErrTransition).
var (
	// ErrNotFound: the object does not exist, or belongs to another
	// organisation (an operator never learns that it exists).
	ErrNotFound = errors.New("registra: not found")
	// ErrPermission: the operator's roles do not grant the action.
	ErrPermission = errors.New("registra: permission denied")
	// ErrTransition: the action does not apply to the object's status.
	ErrTransition = errors.New("registra: transition not allowed")
	// ErrInvalidInput: a field of the input breaks a rule; see [FieldError].
	ErrInvalidInput = errors.New("registra: invalid input")
	// ErrConflict: the object changed meanwhile, or a unique value (an
	// e-mail, a username, an external code) is already used.
	ErrConflict = errors.New("registra: conflict")
	// ErrUnauthenticated: the credentials or the session were refused.
	ErrUnauthenticated = errors.New("registra: unauthenticated")
	// ErrBusy: too many requests are already waiting for the same scarce
	// resource (the slow hashes of passwords, [Config.SlowHashes]); the
	// request changed nothing, and may be sent again later.
	ErrBusy = errors.New("registra: busy")
)

// FieldError reports a field of a Platform input that breaks a rule. It
// unwraps to [ErrInvalidInput].
type FieldError struct {
	// Field is the dotted path of the field, such as "applicant.email".
	Field string
	// Rule is the rule broken, in a few lower-case words.
	Rule string
	// Suggestion, when set, is a value that would be accepted instead: the
	// alias offered for an e-mail address already used by another holder
	// (Manuale operatore, "SPID Recognition Product Request").
	Suggestion string
}

// Error returns "registra: <field>: <rule>".
func (e *FieldError) Error() string {
	if e.Suggestion != "" {
		return fmt.Sprintf("registra: %s: %s (try %s)", e.Field, e.Rule, e.Suggestion)
	}
	return fmt.Sprintf("registra: %s: %s", e.Field, e.Rule)
}

// Unwrap returns [ErrInvalidInput].
func (e *FieldError) Unwrap() error { return ErrInvalidInput }

// Error is a refusal or failure reported by a building block (access,
// lifecycle, store, ca, envelope, recognition), classified under one of the
// root sentinels. It unwraps to both, so that callers test either.
type Error struct {
	// Op names the Platform operation, such as "suspend".
	Op string
	// Kind is the root sentinel (ErrPermission, ...), or nil when the
	// failure is internal (a disk, an HSM).
	Kind error
	// Err is the building block's error.
	Err error
}

// Error returns "registra: <op>: <cause>".
func (e *Error) Error() string { return fmt.Sprintf("registra: %s: %v", e.Op, e.Err) }

// Unwrap returns the sentinel and the cause.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// kinds maps the building blocks' sentinels to the root's, in the order
// they are tested: the first match wins.
var kinds = []struct{ from, to error }{
	{access.ErrPermission, ErrPermission},
	{lifecycle.ErrPermission, ErrPermission},
	{lifecycle.ErrTransition, ErrTransition},
	{access.ErrAuthentication, ErrUnauthenticated},
	{access.ErrLocked, ErrUnauthenticated},
	{access.ErrSessionExpired, ErrUnauthenticated},
	{access.ErrEnrolmentRequired, ErrUnauthenticated},
	{store.ErrNotFound, ErrNotFound},
	{store.ErrConflict, ErrConflict},
	{store.ErrIdempotencyMismatch, ErrConflict},
	{access.ErrInvalidInput, ErrInvalidInput},
	{lifecycle.ErrInvalidInput, ErrInvalidInput},
	{store.ErrInvalidInput, ErrInvalidInput},
	{ca.ErrInvalidInput, ErrInvalidInput},
	{envelope.ErrInvalidInput, ErrInvalidInput},
	{recognition.ErrInvalidInput, ErrInvalidInput},
	{recognition.ErrVerification, ErrInvalidInput},
}

// wrap classifies err for operation op. Errors that already carry a root
// sentinel are returned unchanged.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{ErrNotFound, ErrPermission, ErrTransition, ErrInvalidInput, ErrConflict, ErrUnauthenticated, ErrBusy} {
		if errors.Is(err, s) {
			return err
		}
	}
	for _, k := range kinds {
		if errors.Is(err, k.from) {
			return &Error{Op: op, Kind: k.to, Err: err}
		}
	}
	return &Error{Op: op, Err: err}
}

// notFound reports a missing (or foreign) object.
func notFound(what, id string) error {
	return fmt.Errorf("%w: %s %q", ErrNotFound, what, id)
}

// fieldErr returns a *FieldError.
func fieldErr(field, rule string) error { return &FieldError{Field: field, Rule: rule} }
