package lifecycle_test

import (
	"testing"

	"github.com/registra-pki/registra/lifecycle"
)

// BenchmarkApply measures the decision of a revocation of a suspended
// certificate (the longest path: matrix, dating back, pending change) and of
// a plain submit.
func BenchmarkApply(b *testing.B) {
	m, err := lifecycle.NewMachine(lifecycle.Config{})
	if err != nil {
		b.Fatal(err)
	}
	rao := lifecycle.Actor{Kind: lifecycle.ActorOperator, ID: "rao",
		Grants: []lifecycle.Permission{lifecycle.PermOrderSubmit, lifecycle.PermProductRevoke}}
	b.Run("revoke_suspended", func(b *testing.B) {
		cur := stateIn(lifecycle.StatusSuspended)
		in := validInput(lifecycle.ActionRevoke)
		for b.Loop() {
			if _, err := m.Apply(cur, lifecycle.ActionRevoke, rao, in, base); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("submit", func(b *testing.B) {
		cur := stateIn(lifecycle.StatusDraft)
		for b.Loop() {
			if _, err := m.Apply(cur, lifecycle.ActionSubmit, rao, lifecycle.Input{}, base); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("NextEvent", func(b *testing.B) {
		cur := stateIn(lifecycle.StatusSuspended)
		for b.Loop() {
			if _, ok := m.NextEvent(cur); !ok {
				b.Fatal("no event")
			}
		}
	})
}
