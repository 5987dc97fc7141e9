package hsm

import (
	"errors"
	"strings"

	"go.step.sm/crypto/kms/apiv1"

	"github.com/registra-pki/registra/envelope"
)

// Sentinel errors. Every error returned by this package unwraps to one of
// them, except the context's own errors (context.Canceled,
// context.DeadlineExceeded) returned as they are; errors that come from
// crypto11 or the PKCS#11 module stay in the chain under the sentinel, so
// errors.As still finds a pkcs11.Error.
var (
	// ErrInvalidInput reports a bad configuration field or request: nothing
	// was done. The details are in a *FieldError.
	ErrInvalidInput = errors.New("hsm: invalid input")

	// ErrModule reports a PKCS#11 module that cannot be loaded or
	// initialised (missing file, not a PKCS#11 library, or another copy of
	// the library already initialised in this process).
	ErrModule = errors.New("hsm: pkcs11 module cannot be loaded")

	// ErrUnknownToken reports that no slot of the module holds a token with
	// the configured label.
	ErrUnknownToken = errors.New("hsm: unknown token")

	// ErrWrongPIN reports that the token refused the user PIN.
	ErrWrongPIN = errors.New("hsm: wrong pin")

	// ErrPINLocked reports that the token locked the user PIN after too many
	// wrong attempts; the security officer must unlock it.
	ErrPINLocked = errors.New("hsm: pin locked")

	// ErrNotFound reports that no key with the requested name is in the
	// token. It also matches apiv1.NotFoundError under errors.Is.
	ErrNotFound = errors.New("hsm: key not found")

	// ErrAlreadyExists reports that a key with the requested id or label is
	// already in the token. It also matches apiv1.AlreadyExistsError under
	// errors.Is.
	ErrAlreadyExists = errors.New("hsm: key already exists")

	// ErrTokenGone reports that the token disappeared while the [Token] was
	// open (removed, re-initialised, device or session lost). The operation
	// did not happen: no signature, key or ciphertext was produced.
	ErrTokenGone = errors.New("hsm: token gone")

	// ErrBusy reports that no PKCS#11 session became free within
	// Config.PoolWaitTimeout.
	ErrBusy = errors.New("hsm: session pool exhausted")

	// ErrClosed reports the use of a [Token] after Close.
	ErrClosed = errors.New("hsm: token closed")

	// ErrDecrypt reports a ciphertext that fails GCM authentication under a
	// [KEK] (wrong key, nonce, associated data, or tampered data).
	ErrDecrypt = errors.New("hsm: message authentication failed")

	// ErrDevice reports any other failure of the PKCS#11 module.
	ErrDevice = errors.New("hsm: device error")

	// ErrNoCgo reports a binary built without cgo: PKCS#11 modules are C
	// libraries, so this package can only refuse to open them.
	ErrNoCgo = errors.New("hsm: pkcs11 needs cgo: this binary was built with CGO_ENABLED=0")
)

// FieldError names a configuration field or request field that breaks a
// rule. It unwraps to [ErrInvalidInput].
type FieldError struct {
	// Field is the Go name of the field, e.g. "PINFile" or "Name".
	Field string
	// Rule says what the field must satisfy.
	Rule string
}

// Error implements error.
func (e *FieldError) Error() string {
	return "hsm: " + e.Field + ": " + e.Rule
}

// Unwrap returns [ErrInvalidInput].
func (e *FieldError) Unwrap() error { return ErrInvalidInput }

// Error is a failed token operation. It unwraps both to its Kind, one of the
// sentinels of this package, and to Err, the error crypto11 or the module
// returned (which may be nil).
type Error struct {
	// Op is the operation, e.g. "open", "sign", "create key".
	Op string
	// Key is the pkcs11: URI of the key concerned, if any.
	Key string
	// Kind is the sentinel that classifies the failure.
	Kind error
	// Err is the underlying error from crypto11 or the module, if any.
	Err error
}

// Error implements error: "hsm: <op> <key>: <kind>: <cause>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("hsm: ")
	b.WriteString(e.Op)
	if e.Key != "" {
		b.WriteString(" ")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.Kind.Error(), "hsm: "))
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the kind and the underlying error.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Is lets callers written against smallstep's kms test for
// apiv1.NotFoundError and apiv1.AlreadyExistsError, and the code vault for
// envelope.ErrIntegrity.
func (e *Error) Is(target error) bool {
	if target == envelope.ErrIntegrity {
		// A sealed vault record that does not authenticate in the token is
		// what the vault calls an integrity failure (envelope.KEK's contract).
		return e.Kind == ErrDecrypt
	}
	switch target.(type) {
	case apiv1.NotFoundError:
		return e.Kind == ErrNotFound
	case apiv1.AlreadyExistsError:
		return e.Kind == ErrAlreadyExists
	}
	return false
}
