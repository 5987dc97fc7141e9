package lifecycle

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error [Machine.Apply] returns wraps exactly one.
var (
	// ErrTransition: the action does not apply to the current status, or
	// not yet (a suspension that has not ended, a certificate not yet
	// expired).
	ErrTransition = errors.New("lifecycle: transition not allowed")
	// ErrPermission: the actor may not take the action.
	ErrPermission = errors.New("lifecycle: permission denied")
	// ErrInvalidInput: a field of the input, the state or the actor breaks
	// a rule.
	ErrInvalidInput = errors.New("lifecycle: invalid input")
)

// TransitionError reports an action that does not apply to a status. It
// unwraps to [ErrTransition].
type TransitionError struct {
	// From is the current status.
	From Status
	// Action is the refused action.
	Action Action
	// Rule, when set, says why an action that applies to From cannot be
	// taken yet; empty means the action never applies to From.
	Rule string
}

// Error returns the message, as "<pkg>: <what>: <rule>".
func (e *TransitionError) Error() string {
	if e.Rule != "" {
		return fmt.Sprintf("lifecycle: %s: %s", e.Action, e.Rule)
	}
	return fmt.Sprintf("lifecycle: %s: product is %s", e.Action, e.From)
}

// Unwrap returns [ErrTransition].
func (e *TransitionError) Unwrap() error { return ErrTransition }

// PermissionError reports an actor lacking the permission an action needs.
// It unwraps to [ErrPermission].
type PermissionError struct {
	// Action is the refused action.
	Action Action
	// Permission is what the action needs.
	Permission Permission
	// Actor is the actor's ID, and Kind its kind.
	Actor string
	Kind  ActorKind
}

// Error returns the message, as "<pkg>: <what>: <rule>".
func (e *PermissionError) Error() string {
	return fmt.Sprintf("lifecycle: %s: %s %q lacks permission %s", e.Action, e.Kind, e.Actor, e.Permission)
}

// Unwrap returns [ErrPermission].
func (e *PermissionError) Unwrap() error { return ErrPermission }

// FieldError reports a field that breaks a rule. It unwraps to
// [ErrInvalidInput].
type FieldError struct {
	// Action is the action whose input was refused; zero for errors outside
	// an action (parsing, configuration).
	Action Action
	// Field names the field, as a dotted path such as "suspension.end".
	Field string
	// Rule is the rule broken, such as "must be in the future".
	Rule string
}

// Error returns the message, as "<pkg>: <what>: <rule>".
func (e *FieldError) Error() string {
	if e.Action.Valid() {
		return fmt.Sprintf("lifecycle: %s: %s: %s", e.Action, e.Field, e.Rule)
	}
	return fmt.Sprintf("lifecycle: %s: %s", e.Field, e.Rule)
}

// Unwrap returns [ErrInvalidInput].
func (e *FieldError) Unwrap() error { return ErrInvalidInput }
