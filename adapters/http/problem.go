package httpapi

import (
	"errors"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/registra-pki/registra"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/store"
)

// ProblemTypeBase prefixes every problem type of this API. Problem types are
// tag URIs (RFC 4151), which RFC 9457 §3.1.1 names as the choice for types
// that are identifiers rather than documentation locators; the slug after the
// base is listed in [Problems].
const ProblemTypeBase = "tag:registra-pki.github.io,2026:problem:"

// Problem is one row of the table from library errors to RFC 9457 problem
// details: a sentinel error, the HTTP status it answers with, and the problem
// type's slug and title.
type Problem struct {
	// Err is the sentinel matched with errors.Is.
	Err error
	// Status is the HTTP status code.
	Status int
	// Slug names the problem type after [ProblemTypeBase].
	Slug string
	// Title is the problem type's short summary (RFC 9457 §3.1.3): the same
	// for every occurrence.
	Title string
}

// Type returns the problem type URI.
func (p Problem) Type() string { return ProblemTypeBase + p.Slug }

// problemTable is the one table from the library's sentinel errors to problem
// types (STYLE §2.6). An error matches the first row whose sentinel it wraps,
// so rows for narrower errors come before the broad ones they may also wrap
// (a recognition *CheckError wraps both ErrRevoked and ErrVerification).
// The completeness test lists every exported Err* variable of the root package
// and the building blocks and fails when one has no row.
//
// No row answers 422: this API reports every refused request body, including
// one that fails the schema, as 400 (issue #10), so that 422 never needs
// telling apart from domain refusals.
var problemTable = [...]Problem{
	// Authentication: who is calling.
	{access.ErrSessionExpired, http.StatusUnauthorized, "session-expired", "Session expired"},
	{access.ErrLocked, http.StatusUnauthorized, "account-locked", "Account locked"},
	{access.ErrEnrolmentRequired, http.StatusUnauthorized, "enrolment-required", "TOTP enrolment required"},
	{access.ErrAuthentication, http.StatusUnauthorized, "authentication-failed", "Authentication failed"},
	{recognition.ErrUnauthenticated, http.StatusUnauthorized, "callback-unauthenticated", "Callback not authenticated"},
	{registra.ErrUnauthenticated, http.StatusUnauthorized, "authentication-failed", "Authentication failed"},

	// Authorisation: what the caller may do.
	{access.ErrPermission, http.StatusForbidden, "permission-denied", "Permission denied"},
	{lifecycle.ErrPermission, http.StatusForbidden, "permission-denied", "Permission denied"},
	{registra.ErrPermission, http.StatusForbidden, "permission-denied", "Permission denied"},

	// Existence. Another organisation's objects are not found either: the
	// platform answers them with its not-found sentinel.
	{registra.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{store.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{crl.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{envelope.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},

	// State: the request is well formed but the object is not in a state
	// that allows it.
	{lifecycle.ErrTransition, http.StatusConflict, "transition-not-allowed", "Transition not allowed"},
	{registra.ErrTransition, http.StatusConflict, "transition-not-allowed", "Transition not allowed"},
	{store.ErrConflict, http.StatusConflict, "conflict", "Conflicting change"},
	{store.ErrIdempotencyMismatch, http.StatusConflict, "idempotency-mismatch", "Idempotency key reused with other content"},
	{recognition.ErrReplay, http.StatusConflict, "replay", "Replayed message"},
	{recognition.ErrOTPLocked, http.StatusConflict, "otp-closed", "OTP challenge closed"},
	{registra.ErrConflict, http.StatusConflict, "conflict", "Conflicting change"},

	// Recognition checks: each failed check names its kind, and all of them
	// wrap ErrVerification, matched last.
	{recognition.ErrInfected, http.StatusBadRequest, "infected", "File is infected"},
	{recognition.ErrFormat, http.StatusBadRequest, "malformed-artefact", "Malformed artefact"},
	{recognition.ErrSignature, http.StatusBadRequest, "signature-invalid", "Signature does not verify"},
	{recognition.ErrChain, http.StatusBadRequest, "chain-invalid", "Certificate chain does not verify"},
	{recognition.ErrValidity, http.StatusBadRequest, "certificate-not-valid", "Certificate outside its validity period"},
	{recognition.ErrSigningTime, http.StatusBadRequest, "signing-time", "Signing time not acceptable"},
	{recognition.ErrRevoked, http.StatusBadRequest, "certificate-revoked", "Certificate revoked or status unknown"},
	{recognition.ErrNotQualified, http.StatusBadRequest, "not-qualified", "Certificate is not qualified"},
	{recognition.ErrIdentityMismatch, http.StatusBadRequest, "identity-mismatch", "Identity does not match the applicant"},
	{recognition.ErrOutcome, http.StatusBadRequest, "recognition-refused", "Provider reports recognition failed"},
	{recognition.ErrAssurance, http.StatusBadRequest, "assurance-too-low", "Authentication level too low"},
	{recognition.ErrOTPExpired, http.StatusBadRequest, "otp-expired", "OTP expired"},
	{recognition.ErrOTPInvalid, http.StatusBadRequest, "otp-invalid", "OTP does not match"},
	{recognition.ErrVerification, http.StatusBadRequest, "recognition-failed", "Recognition failed"},

	// Input the library refused, naming the field and the rule.
	{ca.ErrLint, http.StatusBadRequest, "certificate-lint", "Certificate would not pass its lints"},
	{envelope.ErrWrongPassphrase, http.StatusBadRequest, "wrong-passphrase", "Wrong passphrase"},
	{envelope.ErrMismatch, http.StatusBadRequest, "code-mismatch", "Code does not match"},
	{envelope.ErrMalformed, http.StatusBadRequest, "malformed-envelope", "Malformed envelope"},
	{envelope.ErrUnsupported, http.StatusBadRequest, "unsupported-parameter", "Unsupported algorithm or parameter"},
	{registra.ErrInvalidInput, http.StatusBadRequest, "invalid-input", "Invalid input"},
	{access.ErrInvalidInput, http.StatusBadRequest, "invalid-input", "Invalid input"},
	{ca.ErrInvalidInput, http.StatusBadRequest, "invalid-input", "Invalid input"},
	{crl.ErrInvalidInput, http.StatusBadRequest, "invalid-input", "Invalid input"},
	{envelope.ErrInvalidInput, http.StatusBadRequest, "invalid-input", "Invalid input"},
	{lifecycle.ErrInvalidInput, http.StatusBadRequest, "invalid-input", "Invalid input"},
	{recognition.ErrInvalidInput, http.StatusBadRequest, "invalid-input", "Invalid input"},
	{store.ErrInvalidInput, http.StatusBadRequest, "invalid-input", "Invalid input"},

	// Temporarily unavailable: retrying later may succeed.
	{store.ErrNotLeader, http.StatusServiceUnavailable, "not-leader", "Not the leader"},
	{store.ErrClosed, http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	{store.ErrLeaseLost, http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	{recognition.ErrScannerUnavailable, http.StatusServiceUnavailable, "scanner-unavailable", "Antivirus scanner unavailable"},
	{registra.ErrBusy, http.StatusServiceUnavailable, "busy", "Too many requests waiting"},

	// The platform's own failures: never the caller's fault.
	{ca.ErrSigning, http.StatusInternalServerError, "signing-failed", "Signing failed"},
	{ca.ErrTicket, http.StatusInternalServerError, "internal", "Internal error"},
	{ca.ErrHierarchy, http.StatusInternalServerError, "internal", "Internal error"},
	{recognition.ErrIssuance, http.StatusInternalServerError, "signing-failed", "Signing failed"},
	{envelope.ErrIntegrity, http.StatusInternalServerError, "internal", "Internal error"},
	{store.ErrCorrupt, http.StatusInternalServerError, "internal", "Internal error"},
	{store.ErrVersion, http.StatusInternalServerError, "internal", "Internal error"},
	{crl.ErrReconcile, http.StatusInternalServerError, "publication-failed", "Publication failed"},
	{crl.ErrVerify, http.StatusInternalServerError, "publication-failed", "Publication failed"},
	{crl.ErrLint, http.StatusInternalServerError, "publication-failed", "Publication failed"},
	{crl.ErrNumber, http.StatusInternalServerError, "publication-failed", "Publication failed"},
}

// Transport problems: refusals decided by this adapter before any library
// call, and the answer to an error no row matches.
var (
	problemInternal     = Problem{nil, http.StatusInternalServerError, "internal", "Internal error"}
	problemBadRequest   = Problem{nil, http.StatusBadRequest, "invalid-request", "Invalid request"}
	problemTooLarge     = Problem{nil, http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large"}
	problemUnauthorized = Problem{nil, http.StatusUnauthorized, "unauthenticated", "Authentication required"}
	problemMediaType    = Problem{nil, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type"}
)

// Problems returns a copy of the table from sentinel errors to problem
// types, in matching order.
func Problems() []Problem { return append([]Problem(nil), problemTable[:]...) }

// Lookup returns the first row whose sentinel err wraps, or the internal
// error row.
func Lookup(err error) Problem {
	for _, p := range problemTable {
		if errors.Is(err, p.Err) {
			return p
		}
	}
	return problemInternal
}

// newProblem returns the RFC 9457 body for err. Internal errors get a fixed
// detail: their message may name files, keys or peers, and is logged instead.
func newProblem(err error) (Problem, *huma.ErrorModel) {
	p := Lookup(err)
	m := &huma.ErrorModel{Type: p.Type(), Title: p.Title, Status: p.Status}
	if p.Status < http.StatusInternalServerError {
		m.Detail = err.Error()
		m.Errors = fieldDetails(err)
	} else {
		m.Detail = p.Title
	}
	return p, m
}

// fieldDetails collects the Field and Rule (and any Suggestion, as the
// value) of every field error in err's tree. Each building block has its own FieldError type with these two
// string fields; reading them by name keeps this adapter free of one case per
// package.
func fieldDetails(err error) []*huma.ErrorDetail {
	var out []*huma.ErrorDetail
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
			f, r := v.Elem().FieldByName("Field"), v.Elem().FieldByName("Rule")
			if f.IsValid() && r.IsValid() && f.Kind() == reflect.String && r.Kind() == reflect.String {
				d := &huma.ErrorDetail{Location: f.String(), Message: r.String()}
				// The platform offers a value it would accept instead (an
				// e-mail alias); the client shows it.
				if sg := v.Elem().FieldByName("Suggestion"); sg.IsValid() && sg.Kind() == reflect.String && sg.String() != "" {
					d.Value = sg.String()
				}
				out = append(out, d)
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}
