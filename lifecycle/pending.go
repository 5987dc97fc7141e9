package lifecycle

import (
	"iter"
	"time"
)

// ChangeKind says what a [PendingChange] does to a certificate's revocation
// status.
type ChangeKind uint8

// Change kinds. The zero value is not a kind.
const (
	changeInvalid ChangeKind = iota
	// ChangeRevocation adds a final revocation entry, or replaces a hold
	// with the final reason.
	ChangeRevocation
	// ChangeSuspension adds a certificateHold entry.
	ChangeSuspension
	// ChangeReactivation removes a hold: the next full CRL drops the entry
	// and the delta CRL lists it as removeFromCRL (RFC 5280 §5.3.1).
	ChangeReactivation
)

var changeKindNames = []string{"", "revocation", "suspension", "reactivation"}

// String returns the wire name, such as "reactivation".
func (k ChangeKind) String() string { return wireName("ChangeKind", changeKindNames, int(k)) }

// ParseChangeKind returns the kind whose wire name is s.
func ParseChangeKind(s string) (ChangeKind, error) {
	i, err := parseWire("change_kind", changeKindNames, s)
	return ChangeKind(i), err
}

// PendingChange is a change of revocation status that the CRL publisher must
// publish by Deadline. The root stores it with the transition; package crl
// publishes it and issues a receipt.
type PendingChange struct {
	// Kind is what changes.
	Kind ChangeKind
	// Reason is the RFC 5280 code of the entry: certificateHold for a
	// suspension, removeFromCRL for a reactivation, the revocation's reason
	// otherwise.
	Reason Reason
	// RevocationTime is the entry's revocationDate (RFC 5280 §5.3): the
	// suspension's start for a hold, the dated-back time for a revocation,
	// the request time for a reactivation.
	RevocationTime time.Time
	// RequestedAt is when the change was recorded.
	RequestedAt time.Time
	// Mode is the publication mode applied (never [PublicationDefault]).
	Mode Publication
	// Deadline is RequestedAt plus the mode's duration: the SLA.
	Deadline time.Time
}

// Overdue reports whether the change is past its deadline at now.
func (p PendingChange) Overdue(now time.Time) bool { return now.After(p.Deadline) }

// EarliestDeadline returns the earliest deadline among changes, and false
// when there are none. A publisher sleeps until then, at the latest.
func EarliestDeadline(changes iter.Seq[PendingChange]) (time.Time, bool) {
	var best time.Time
	found := false
	for c := range changes {
		if !found || c.Deadline.Before(best) {
			best, found = c.Deadline, true
		}
	}
	return best, found
}

// Event is an automatic action due at a time.
type Event struct {
	// Action is [ActionReleaseHold] or [ActionExpire].
	Action Action
	// At is when it becomes due.
	At time.Time
}

// NextEvent returns the next automatic action for a product in state s, and
// false when none will ever come (unissued, revoked, expired, deleted).
//
// A hold ends at its end date. Expiry is due at the first instant after
// notAfter ([ExpiryTime]), since RFC 5280 §4.1.2.5 counts notAfter itself as
// valid. Expiry wins over a hold that would end at notAfter: such a
// certificate is never valid again.
func (m *Machine) NextEvent(s State) (Event, bool) {
	switch s.Status {
	case StatusActive:
		return Event{Action: ActionExpire, At: ExpiryTime(s.NotAfter)}, true
	case StatusSuspended:
		if s.Suspension == nil || !s.Suspension.End.Before(s.NotAfter) {
			return Event{Action: ActionExpire, At: ExpiryTime(s.NotAfter)}, true
		}
		return Event{Action: ActionReleaseHold, At: s.Suspension.End}, true
	default:
		return Event{}, false
	}
}

// Due returns the automatic action due at now for a product in state s, and
// false when nothing is due yet. Applying it with [System] succeeds.
func (m *Machine) Due(s State, now time.Time) (Action, bool) {
	e, ok := m.NextEvent(s)
	if !ok || now.Before(e.At) {
		return actionInvalid, false
	}
	return e.Action, true
}

// ExpiryTime returns the first instant at which a certificate with notAfter
// is expired: one nanosecond after it (RFC 5280 §4.1.2.5: "from notBefore
// through notAfter, inclusive").
func ExpiryTime(notAfter time.Time) time.Time { return notAfter.Add(time.Nanosecond) }
