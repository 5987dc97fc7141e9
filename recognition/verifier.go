package recognition

import (
	"context"
	"time"
)

// Verifier checks the evidence of one recognition method and returns it
// ready for sealing. Verify returns an [*InputError] or [*FieldError]
// (wrapping [ErrInvalidInput]) when the submission is incomplete, and a
// [*VerificationError] listing every failed check otherwise; in both cases
// the returned Evidence is the zero value. Verify never modifies the
// submission.
type Verifier interface {
	Method() Method
	Verify(ctx context.Context, s Submission) (Evidence, error)
}

// Compile-time checks that every method's verifier is a Verifier.
var (
	_ Verifier = (*Offline)(nil)
	_ Verifier = (*SignID)(nil)
	_ Verifier = (*LiveID)(nil)
	_ Verifier = (*VideoID)(nil)
	_ Verifier = (*SPID)(nil)
)

func nowOr(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}
