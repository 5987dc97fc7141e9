// Package lifecycletest gives tests of packages that use lifecycle
// well-formed states in every status, an input every action accepts, and the
// time at which each action can be applied: what a table-driven test over
// every (status, action, role) needs. Import it only from _test.go files.
package lifecycletest

import (
	"time"

	"github.com/registra-pki/registra/lifecycle"
)

// Contract is the contract reference the fixtures attach.
const Contract = "sha256:5f1e0c2a"

// State returns a well-formed state in status s as seen at now: issued
// certificates expire a year after now; a suspension started two days before
// now and ends seven days after; a revocation was recorded an hour before now
// for key compromise.
func State(s lifecycle.Status, now time.Time) lifecycle.State {
	st := lifecycle.State{Status: s}
	if s.Issued() {
		st.NotAfter = now.AddDate(1, 0, 0)
	}
	switch s {
	case lifecycle.StatusSuspended:
		st.Suspension = &lifecycle.Suspension{Start: now.Add(-48 * time.Hour), End: now.AddDate(0, 0, 7),
			Notes: "phone lost", Contract: Contract, By: "rao"}
	case lifecycle.StatusRevoked:
		st.Revocation = &lifecycle.Revocation{Requester: lifecycle.RequesterOwner,
			Motivation: lifecycle.MotivationKeyCompromise, Reason: lifecycle.ReasonKeyCompromise,
			RequestedAt: now.Add(-time.Hour), RevocationTime: now.Add(-time.Hour),
			Publication: lifecycle.PublicationImmediate, By: "rao"}
	}
	return st
}

// Input returns an input action a accepts at now from every actor allowed to
// take it (the holder included: revocations are requested by the owner), for
// a state made by [State] at now.
func Input(a lifecycle.Action, now time.Time) lifecycle.Input {
	switch a {
	case lifecycle.ActionIssue:
		return lifecycle.Input{NotAfter: now.AddDate(1, 0, 0)}
	case lifecycle.ActionSuspend:
		return lifecycle.Input{Suspension: &lifecycle.SuspendRequest{End: now.AddDate(0, 0, 7),
			Notes: "holder abroad", Contract: Contract}}
	case lifecycle.ActionRevoke:
		return lifecycle.Input{Revocation: &lifecycle.RevokeRequest{Requester: lifecycle.RequesterOwner,
			Motivation: lifecycle.MotivationKeyCompromise}}
	}
	return lifecycle.Input{}
}

// At returns when action a can be applied to s, given that it is now:
// scheduled actions wait until they are due, the others happen now.
func At(a lifecycle.Action, s lifecycle.State, now time.Time) time.Time {
	switch a {
	case lifecycle.ActionExpire:
		if !s.NotAfter.IsZero() {
			return lifecycle.ExpiryTime(s.NotAfter)
		}
	case lifecycle.ActionReleaseHold:
		if s.Suspension != nil {
			return s.Suspension.End
		}
	}
	return now
}
