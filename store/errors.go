package store

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the store returns wraps one of them, so that
// callers test the kind with [errors.Is] and the details with [errors.As].
var (
	// ErrInvalidInput reports input the store refuses to hold: invalid UTF-8, a
	// NUL byte, a value past its maximum length, a missing required field. It
	// is always returned through a [*FieldError] naming the field.
	ErrInvalidInput = errors.New("store: invalid input")
	// ErrNotFound reports a record that does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict reports a failed precondition (stale version, unexpected
	// status, duplicate unique value). The batch changed nothing.
	ErrConflict = errors.New("store: conflict")
	// ErrIdempotencyMismatch reports an idempotency key reused with a batch of
	// different content.
	ErrIdempotencyMismatch = errors.New("store: idempotency key reused with other content")
	// ErrLeaseLost reports a fenced batch or a lease renewal whose lease epoch
	// no longer holds.
	ErrLeaseLost = errors.New("store: lease lost")
	// ErrCorrupt reports data that no longer matches its checksum or hash: a
	// corrupt blob, snapshot or log. Corrupt data is never served.
	ErrCorrupt = errors.New("store: corrupt data")
	// ErrVersion reports a data directory written by another program or by an
	// incompatible version of this one.
	ErrVersion = errors.New("store: unsupported data directory")
	// ErrClosed reports a call on a closed store or snapshot.
	ErrClosed = errors.New("store: closed")
	// ErrNotLeader reports a write sent to a cluster node that is not the Raft
	// leader; [*NotLeaderError] carries the leader's address when known.
	ErrNotLeader = errors.New("store: not the leader")
)

// FieldError names the field of an input that broke a rule. It unwraps to
// [ErrInvalidInput].
type FieldError struct {
	// Field is the dotted path of the field, e.g. "commands[2].order.email".
	Field string
	// Rule says what the value broke, e.g. "contains a NUL byte".
	Rule string
}

// Error returns "store: <field>: <rule>".
func (e *FieldError) Error() string { return fmt.Sprintf("store: %s: %s", e.Field, e.Rule) }

// Unwrap returns [ErrInvalidInput].
func (e *FieldError) Unwrap() error { return ErrInvalidInput }

// ConflictError says which precondition failed. It unwraps to [ErrConflict].
type ConflictError struct {
	// Command is the index of the failing command in its batch (-1 for the
	// batch itself, e.g. its fence).
	Command int
	// Reason says what did not hold, e.g. "order o1: version 7, expected 5".
	Reason string
}

// Error returns "store: conflict: <reason>".
func (e *ConflictError) Error() string {
	return fmt.Sprintf("store: conflict: command %d: %s", e.Command, e.Reason)
}

// Unwrap returns [ErrConflict].
func (e *ConflictError) Unwrap() error { return ErrConflict }

// NotLeaderError is returned by a cluster node that cannot accept writes. It
// unwraps to [ErrNotLeader].
type NotLeaderError struct {
	// Leader is the Raft address of the current leader, empty when unknown.
	Leader string
}

// Error returns "store: not the leader: leader is <addr>".
func (e *NotLeaderError) Error() string {
	if e.Leader == "" {
		return "store: not the leader: no leader known"
	}
	return "store: not the leader: leader is " + e.Leader
}

// Unwrap returns [ErrNotLeader].
func (e *NotLeaderError) Unwrap() error { return ErrNotLeader }

func fieldErr(field, rule string) error { return &FieldError{Field: field, Rule: rule} }

func conflict(cmd int, format string, args ...any) error {
	return &ConflictError{Command: cmd, Reason: fmt.Sprintf(format, args...)}
}

func notFound(what, id string) error { return fmt.Errorf("%w: %s %q", ErrNotFound, what, id) }
