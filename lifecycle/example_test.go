package lifecycle_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/registra-pki/registra/lifecycle"
)

// An RAO suspends an active certificate and later revokes it for key
// compromise: the revocation is dated back to the start of the suspension and
// must reach the CRL within an hour.
func ExampleMachine_Apply() {
	m, err := lifecycle.NewMachine(lifecycle.Config{})
	if err != nil {
		panic(err)
	}
	rao := lifecycle.Actor{Kind: lifecycle.ActorOperator, ID: "rao-17",
		Grants: []lifecycle.Permission{lifecycle.PermProductSuspend, lifecycle.PermProductRevoke}}
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	active := lifecycle.State{Status: lifecycle.StatusActive, NotAfter: now.AddDate(3, 0, 0)}

	tr, err := m.Apply(active, lifecycle.ActionSuspend, rao, lifecycle.Input{
		Suspension: &lifecycle.SuspendRequest{End: now.AddDate(0, 0, 30), Notes: "phone lost", Contract: "sha256:9f2c"},
	}, now)
	if err != nil {
		panic(err)
	}
	fmt.Println(tr.From, "->", tr.To, tr.Pending.Reason, "publish by", tr.Pending.Deadline.Format(time.RFC3339))

	later := now.Add(36 * time.Hour)
	tr, err = m.Apply(tr.State, lifecycle.ActionRevoke, rao, lifecycle.Input{
		Revocation: &lifecycle.RevokeRequest{Requester: lifecycle.RequesterOwner, Motivation: lifecycle.MotivationKeyCompromise},
	}, later)
	if err != nil {
		panic(err)
	}
	p := tr.Pending
	fmt.Println(tr.From, "->", tr.To, p.Reason, p.Mode, "dated", p.RevocationTime.Format(time.RFC3339),
		"publish by", p.Deadline.Format(time.RFC3339))

	_, err = m.Apply(tr.State, lifecycle.ActionReactivate, rao, lifecycle.Input{}, later)
	fmt.Println(errors.Is(err, lifecycle.ErrPermission), err)
	// Output:
	// active -> suspended certificateHold publish by 2026-05-05T10:00:00Z
	// suspended -> revoked keyCompromise immediate dated 2026-05-04T10:00:00Z publish by 2026-05-05T23:00:00Z
	// true lifecycle: reactivate: operator "rao-17" lacks permission product.reactivate
}

// A scheduler asks what is due and applies it as the system.
func ExampleMachine_Due() {
	m, err := lifecycle.NewMachine(lifecycle.Config{})
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	suspended := lifecycle.State{Status: lifecycle.StatusSuspended, NotAfter: start.AddDate(1, 0, 0),
		Suspension: &lifecycle.Suspension{Start: start, End: start.AddDate(0, 0, 7), By: "rao-17"}}

	e, _ := m.NextEvent(suspended)
	fmt.Println("next:", e.Action, "at", e.At.Format(time.RFC3339))
	if a, due := m.Due(suspended, e.At); due {
		tr, err := m.Apply(suspended, a, lifecycle.System(), lifecycle.Input{}, e.At)
		if err != nil {
			panic(err)
		}
		fmt.Println(tr.To, tr.Pending.Kind, tr.Pending.Reason)
	}
	// Output:
	// next: release_hold at 2026-05-11T10:00:00Z
	// active reactivation removeFromCRL
}
