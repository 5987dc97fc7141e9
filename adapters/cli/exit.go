package cli

import (
	"errors"
	"fmt"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/store"
)

// Exit codes of the registra command (documented in the package doc and in
// `registra --help`).
const (
	// ExitOK: the command did what it was asked.
	ExitOK = 0
	// ExitRefused: the platform refused the request, or a check failed.
	ExitRefused = 1
	// ExitUsage: the command line is wrong.
	ExitUsage = 2
	// ExitUnreachable: the server cannot be reached.
	ExitUnreachable = 3
)

// Sentinel errors of the command itself.
var (
	// ErrUsage reports a wrong command line: an unknown flag, a missing or
	// malformed argument. Exit code 2.
	ErrUsage = errors.New("cli: usage error")
	// ErrUnreachable reports a server that does not answer (connection
	// refused, timeout, TLS failure, a gateway error). Exit code 3.
	ErrUnreachable = errors.New("cli: server unreachable")
	// ErrRefused reports a request the server answered with problem
	// details; see [ProblemError]. Exit code 1.
	ErrRefused = errors.New("cli: refused by the server")
	// ErrExists reports that `registra init` found a hierarchy it would
	// overwrite. Exit code 1.
	ErrExists = errors.New("cli: already initialised")
	// ErrNotLoggedIn reports a client command run without a session: run
	// `registra login` first. Exit code 1.
	ErrNotLoggedIn = errors.New("cli: not logged in")
)

// exitRow is one row of the table from sentinel errors to exit codes.
type exitRow struct {
	err  error
	code int
}

// exitTable is the one table from sentinel errors to exit codes (STYLE §2.6):
// the command's own sentinels, then the root package's and every building
// block's. An error takes the code of the first row whose sentinel it wraps;
// an error no row matches exits with [ExitRefused]. The completeness test
// lists every exported Err* of the root and the building blocks and fails
// when one has no row.
//
// Every refusal and failed check of the library is 1: scripts tell them apart
// by the message (and --json output), not by the code. Only a wrong command
// line (2) and an unreachable server (3) differ, because a script reacts to
// them differently: it fixes its call, or retries later.
var exitTable = [...]exitRow{
	{ErrUsage, ExitUsage},
	{ErrUnreachable, ExitUnreachable},
	{ErrRefused, ExitRefused},
	{ErrExists, ExitRefused},
	{ErrNotLoggedIn, ExitRefused},

	// registra (the Platform).
	{registra.ErrNotFound, ExitRefused},
	{registra.ErrPermission, ExitRefused},
	{registra.ErrTransition, ExitRefused},
	{registra.ErrInvalidInput, ExitRefused},
	{registra.ErrConflict, ExitRefused},
	{registra.ErrUnauthenticated, ExitRefused},
	{registra.ErrBusy, ExitRefused},

	// access.
	{access.ErrInvalidInput, ExitRefused},
	{access.ErrPermission, ExitRefused},
	{access.ErrAuthentication, ExitRefused},
	{access.ErrLocked, ExitRefused},
	{access.ErrEnrolmentRequired, ExitRefused},
	{access.ErrSessionExpired, ExitRefused},

	// ca.
	{ca.ErrInvalidInput, ExitRefused},
	{ca.ErrLint, ExitRefused},
	{ca.ErrHierarchy, ExitRefused},
	{ca.ErrTicket, ExitRefused},
	{ca.ErrSigning, ExitRefused},

	// crl.
	{crl.ErrInvalidInput, ExitRefused},
	{crl.ErrNotFound, ExitRefused},
	{crl.ErrReconcile, ExitRefused},
	{crl.ErrVerify, ExitRefused},
	{crl.ErrLint, ExitRefused},
	{crl.ErrNumber, ExitRefused},

	// envelope.
	{envelope.ErrInvalidInput, ExitRefused},
	{envelope.ErrWrongPassphrase, ExitRefused},
	{envelope.ErrMalformed, ExitRefused},
	{envelope.ErrUnsupported, ExitRefused},
	{envelope.ErrIntegrity, ExitRefused},
	{envelope.ErrMismatch, ExitRefused},
	{envelope.ErrNotFound, ExitRefused},

	// lifecycle.
	{lifecycle.ErrTransition, ExitRefused},
	{lifecycle.ErrPermission, ExitRefused},
	{lifecycle.ErrInvalidInput, ExitRefused},

	// recognition.
	{recognition.ErrInvalidInput, ExitRefused},
	{recognition.ErrVerification, ExitRefused},
	{recognition.ErrFormat, ExitRefused},
	{recognition.ErrSignature, ExitRefused},
	{recognition.ErrChain, ExitRefused},
	{recognition.ErrValidity, ExitRefused},
	{recognition.ErrSigningTime, ExitRefused},
	{recognition.ErrRevoked, ExitRefused},
	{recognition.ErrNotQualified, ExitRefused},
	{recognition.ErrIdentityMismatch, ExitRefused},
	{recognition.ErrInfected, ExitRefused},
	{recognition.ErrScannerUnavailable, ExitRefused},
	{recognition.ErrUnauthenticated, ExitRefused},
	{recognition.ErrReplay, ExitRefused},
	{recognition.ErrOTPInvalid, ExitRefused},
	{recognition.ErrOTPExpired, ExitRefused},
	{recognition.ErrOTPLocked, ExitRefused},
	{recognition.ErrIssuance, ExitRefused},
	{recognition.ErrOutcome, ExitRefused},
	{recognition.ErrAssurance, ExitRefused},

	// store.
	{store.ErrInvalidInput, ExitRefused},
	{store.ErrNotFound, ExitRefused},
	{store.ErrConflict, ExitRefused},
	{store.ErrIdempotencyMismatch, ExitRefused},
	{store.ErrLeaseLost, ExitRefused},
	{store.ErrCorrupt, ExitRefused},
	{store.ErrVersion, ExitRefused},
	{store.ErrClosed, ExitRefused},
	{store.ErrNotLeader, ExitRefused},
}

// ExitCode returns the exit code for err: [ExitOK] for nil, otherwise the
// code of the first row of the table whose sentinel err wraps, and
// [ExitRefused] when none does.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	for _, r := range exitTable {
		if errors.Is(err, r.err) {
			return r.code
		}
	}
	return ExitRefused
}

// UsageError is a wrong command line. It unwraps to [ErrUsage].
type UsageError struct {
	// Msg says what is wrong, such as `--until: must be a date (2006-01-02)`.
	Msg string
}

// Error returns "usage: <msg>".
func (e *UsageError) Error() string { return "usage: " + e.Msg }

// Unwrap returns [ErrUsage].
func (e *UsageError) Unwrap() error { return ErrUsage }

// usagef returns a *UsageError.
func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}
