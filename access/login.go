package access

import (
	"context"
	"fmt"
	"time"
)

// Directory finds operators by username. The store satisfies it; the
// lookup is the only I/O of a login.
type Directory interface {
	// OperatorByUsername returns the operator with username, and false when
	// there is none.
	OperatorByUsername(ctx context.Context, username string) (Operator, bool, error)
}

// Login looks the operator up in dir and authenticates them
// ([Authenticator.Authenticate]) at now. An unknown username costs a password
// verification too ([Authenticator.RejectUnknown]) and fails like a wrong
// password. The caller persists the returned operator whenever its ID is not
// empty, whether or not err is nil, so that failures count and used codes
// stay used.
func (a *Authenticator) Login(ctx context.Context, dir Directory, username string, pw Password, code Passcode, now time.Time) (Operator, error) {
	if err := ctx.Err(); err != nil {
		return Operator{}, err
	}
	op, found, err := dir.OperatorByUsername(ctx, username)
	if err != nil {
		return Operator{}, fmt.Errorf("access: login: looking up operator: %w", err)
	}
	if !found {
		return Operator{}, a.RejectUnknown(ctx, pw)
	}
	return a.Authenticate(ctx, op, pw, code, now)
}
