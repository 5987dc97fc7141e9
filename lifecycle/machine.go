package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Defaults of [Config].
const (
	// DefaultNormalPublication is the normal publication SLA (Manuale
	// operatore, "Product Revocation": within the next 24 hours).
	DefaultNormalPublication = 24 * time.Hour
	// DefaultImmediatePublication is the immediate publication SLA (ibid.:
	// within 1 hour).
	DefaultImmediatePublication = time.Hour
	// DefaultMaxNotes is the default limit on notes, in bytes.
	DefaultMaxNotes = 2000
	// maxContractRef bounds a contract reference (a blob hash or ID).
	maxContractRef = 256
)

// HoldEndPolicy decides what happens when a suspension reaches its end date.
type HoldEndPolicy uint8

// Hold-end policies.
const (
	// HoldEndRelease makes the certificate valid again (Manuale operatore,
	// Introduction: at the end date "it will become valid again"). The
	// default.
	HoldEndRelease HoldEndPolicy = iota
	// HoldEndRevoke revokes the certificate at the end date, as
	// certifier, for office procedure, dated back to the start of the
	// suspension unless [Config.DateRevocationAtRequest] is set.
	HoldEndRevoke
)

var holdEndNames = []string{"release", "revoke"}

// String returns the wire name, "release" or "revoke".
func (p HoldEndPolicy) String() string { return wireName("HoldEndPolicy", holdEndNames, int(p)) }

// Config configures a [Machine]. The zero value is valid and gives the
// manual's behaviour.
type Config struct {
	// NormalPublication is the SLA of normal publication. Zero means
	// [DefaultNormalPublication] (24 h).
	NormalPublication time.Duration
	// ImmediatePublication is the SLA of immediate publication. Zero means
	// [DefaultImmediatePublication] (1 h). It may not exceed the normal one.
	ImmediatePublication time.Duration
	// DateRevocationAtRequest turns off the Italian rule: when set, the
	// revocation of a suspended certificate is dated when it is requested.
	// Zero (false) means it is dated back to the start of the suspension.
	DateRevocationAtRequest bool
	// HoldEnd is what happens at a suspension's end date. Zero means
	// [HoldEndRelease].
	HoldEnd HoldEndPolicy
	// MaxNotes limits suspension and revocation notes, in bytes. Zero means
	// [DefaultMaxNotes].
	MaxNotes int
}

// Validate checks the fields together and names the first bad one.
func (c Config) Validate() error {
	switch {
	case c.NormalPublication < 0:
		return &FieldError{Field: "Config.NormalPublication", Rule: "must not be negative"}
	case c.ImmediatePublication < 0:
		return &FieldError{Field: "Config.ImmediatePublication", Rule: "must not be negative"}
	case c.withDefaults().ImmediatePublication > c.withDefaults().NormalPublication:
		return &FieldError{Field: "Config.ImmediatePublication", Rule: "must not exceed NormalPublication"}
	case int(c.HoldEnd) >= len(holdEndNames):
		return &FieldError{Field: "Config.HoldEnd", Rule: "unknown policy " + c.HoldEnd.String()}
	case c.MaxNotes < 0:
		return &FieldError{Field: "Config.MaxNotes", Rule: "must not be negative"}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.NormalPublication == 0 {
		c.NormalPublication = DefaultNormalPublication
	}
	if c.ImmediatePublication == 0 {
		c.ImmediatePublication = DefaultImmediatePublication
	}
	if c.MaxNotes == 0 {
		c.MaxNotes = DefaultMaxNotes
	}
	return c
}

// Machine applies actions to states following [Table]. It is immutable and
// safe for concurrent use.
type Machine struct {
	cfg   Config
	table []Row
}

// NewMachine returns a machine for cfg, after [Config.Validate].
func NewMachine(cfg Config) (*Machine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := Table()
	if cfg.HoldEnd == HoldEndRevoke {
		for i := range t {
			if t[i].Action == ActionReleaseHold {
				t[i].To = StatusRevoked
			}
		}
	}
	return &Machine{cfg: cfg.withDefaults(), table: t}, nil
}

// Table returns the machine's transition table: [Table] with the hold-end
// policy applied. The caller may modify the copy.
func (m *Machine) Table() []Row {
	out := slices.Clone(m.table)
	for i := range out {
		out[i].From = slices.Clone(out[i].From)
	}
	return out
}

// Row returns the machine's table row of action a, and false for an unknown
// action. The root uses it to find the permission to check against the
// resource's organisation (package access) before calling [Machine.Apply].
func (m *Machine) Row(a Action) (Row, bool) {
	r, ok := row(m.table, a)
	if ok {
		r.From = slices.Clone(r.From)
	}
	return r, ok
}

// Deadline returns when a change requested at requestedAt must be published
// in mode (normal when mode is [PublicationDefault]).
func (m *Machine) Deadline(mode Publication, requestedAt time.Time) time.Time {
	if mode == PublicationImmediate {
		return requestedAt.Add(m.cfg.ImmediatePublication)
	}
	return requestedAt.Add(m.cfg.NormalPublication)
}

// State is what the machine knows of an order or product.
type State struct {
	// Status is the current status.
	Status Status
	// NotAfter is the certificate's notAfter, set by [ActionIssue].
	NotAfter time.Time
	// Suspension is the current suspension, set while suspended.
	Suspension *Suspension
	// Revocation is set once revoked.
	Revocation *Revocation
}

// Validate checks that s is well formed: a known status; a notAfter once a
// certificate is issued; the suspension record while suspended; the
// revocation record once revoked.
func (s State) Validate() error { return s.validate(actionInvalid) }

func (s State) validate(a Action) error {
	switch {
	case !s.Status.Valid():
		return &FieldError{Action: a, Field: "state.status", Rule: "unknown status " + s.Status.String()}
	case s.Status.Issued() && s.NotAfter.IsZero():
		return &FieldError{Action: a, Field: "state.not_after", Rule: "required once issued"}
	case s.Status == StatusSuspended && s.Suspension == nil:
		return &FieldError{Action: a, Field: "state.suspension", Rule: "required while suspended"}
	case s.Status == StatusRevoked && s.Revocation == nil:
		return &FieldError{Action: a, Field: "state.revocation", Rule: "required once revoked"}
	}
	return nil
}

// clone returns a copy of s sharing nothing with it.
func (s State) clone() State {
	if s.Suspension != nil {
		c := *s.Suspension
		s.Suspension = &c
	}
	if s.Revocation != nil {
		c := *s.Revocation
		s.Revocation = &c
	}
	return s
}

// SuspendRequest is the input of [ActionSuspend] (Manuale operatore, "Product
// Suspension": "defines the end date of suspension, attaches the contract,
// and reports in Notes the reasons").
type SuspendRequest struct {
	// End is when the suspension ends. Required: after now and not after
	// the certificate's notAfter.
	End time.Time
	// Notes give the reasons. Optional, at most [Config.MaxNotes] bytes.
	Notes string
	// Contract references the attached contract. Required when an operator
	// suspends; optional for the holder, who suspends from the portal.
	Contract string
}

// Suspension records a suspension in a [State].
type Suspension struct {
	// Start is when the suspension was recorded: the hold's
	// revocationDate.
	Start time.Time
	// End, Notes and Contract are as requested.
	End      time.Time
	Notes    string
	Contract string
	// By is the ID of the actor who suspended.
	By string
}

// Input carries the per-action data of [Machine.Apply]. Each action reads
// only its own fields and refuses the others when set.
type Input struct {
	// NotAfter is the issued certificate's notAfter ([ActionIssue] only;
	// required, after now).
	NotAfter time.Time
	// Suspension is required by [ActionSuspend].
	Suspension *SuspendRequest
	// Revocation is required by [ActionRevoke].
	Revocation *RevokeRequest
	// Publication is the mode asked for by [ActionSuspend],
	// [ActionReactivate] and [ActionRevoke]. Zero means the default:
	// normal, or for revocations what [Matrix] says.
	Publication Publication
}

// Transition is the result of an applied action.
type Transition struct {
	// Action is the action taken, by the actor with ID Actor, at At.
	Action Action
	Actor  string
	At     time.Time
	// From and To are the statuses before and after (equal for update and
	// resend_envelope).
	From, To Status
	// Permission is the permission the action needed.
	Permission Permission
	// State is the new state. It shares nothing with the state passed in.
	State State
	// Pending is the change of revocation status to publish, or nil when
	// the action changes none.
	Pending *PendingChange
}

// Apply takes action a on a product in state cur, on behalf of by, at now. It
// checks in order: that a, cur ([State.Validate]) and by are well formed
// ([ErrInvalidInput]); that by may take a ([ErrPermission]); that a applies to
// cur.Status, and for scheduled actions that it is due ([ErrTransition]); and
// the input ([ErrInvalidInput]). It never modifies cur; on error it returns a
// zero Transition.
func (m *Machine) Apply(cur State, a Action, by Actor, in Input, now time.Time) (Transition, error) {
	r, ok := row(m.table, a)
	if !ok {
		return Transition{}, &FieldError{Field: "action", Rule: "unknown action " + a.String()}
	}
	if err := cur.validate(a); err != nil {
		return Transition{}, err
	}
	if by.Kind == actorInvalid || int(by.Kind) >= len(actorKindNames) {
		return Transition{}, &FieldError{Action: a, Field: "actor.kind", Rule: "unknown kind " + by.Kind.String()}
	}
	if strings.TrimSpace(by.ID) == "" {
		return Transition{}, &FieldError{Action: a, Field: "actor.id", Rule: "required"}
	}
	if !by.may(r) {
		return Transition{}, &PermissionError{Action: a, Permission: r.Permission, Actor: by.ID, Kind: by.Kind}
	}
	if !r.Applies(cur.Status) {
		return Transition{}, &TransitionError{From: cur.Status, Action: a}
	}
	if err := m.checkInputShape(a, in); err != nil {
		return Transition{}, err
	}

	next := cur.clone()
	to := r.To
	if to == StatusSame {
		to = cur.Status
	}
	t := Transition{Action: a, Actor: by.ID, At: now, From: cur.Status, To: to, Permission: r.Permission}
	var pending *PendingChange
	var err error
	switch a {
	case ActionIssue:
		if !in.NotAfter.After(now) {
			return Transition{}, &FieldError{Action: a, Field: "not_after", Rule: "must be after now"}
		}
		next.NotAfter = in.NotAfter
	case ActionSuspend:
		pending, err = m.suspend(&next, by, in, now)
	case ActionReactivate:
		pending, err = m.release(&next, in.Publication, now)
	case ActionRevoke:
		pending, err = m.revoke(&next, by, in, now)
	case ActionReleaseHold:
		pending, err = m.holdEnd(&next, now)
	case ActionExpire:
		// RFC 5280 §4.1.2.5: the validity period runs through notAfter
		// inclusive, as crypto/x509's Verify reads it. A suspended
		// certificate that expires keeps its hold on the CRL (it is never
		// valid again), so expiry changes no revocation status.
		if !now.After(cur.NotAfter) {
			return Transition{}, &TransitionError{From: cur.Status, Action: a,
				Rule: "certificate is valid through " + cur.NotAfter.UTC().Format(time.RFC3339)}
		}
	}
	if err != nil {
		return Transition{}, err
	}
	next.Status = to
	t.State = next
	t.Pending = pending
	return t, nil
}

// checkInputShape refuses input fields that a does not read.
func (m *Machine) checkInputShape(a Action, in Input) error {
	if a != ActionIssue && !in.NotAfter.IsZero() {
		return &FieldError{Action: a, Field: "not_after", Rule: "not used by " + a.String()}
	}
	if a != ActionSuspend && in.Suspension != nil {
		return &FieldError{Action: a, Field: "suspension", Rule: "not used by " + a.String()}
	}
	if a != ActionRevoke && in.Revocation != nil {
		return &FieldError{Action: a, Field: "revocation", Rule: "not used by " + a.String()}
	}
	switch a {
	case ActionSuspend, ActionReactivate, ActionRevoke:
		if int(in.Publication) >= len(publicationNames) {
			return &FieldError{Action: a, Field: "publication", Rule: "unknown mode " + in.Publication.String()}
		}
	default:
		if in.Publication != PublicationDefault {
			return &FieldError{Action: a, Field: "publication", Rule: "not used by " + a.String()}
		}
	}
	return nil
}

func (m *Machine) suspend(next *State, by Actor, in Input, now time.Time) (*PendingChange, error) {
	const a = ActionSuspend
	req := in.Suspension
	switch {
	case req == nil:
		return nil, &FieldError{Action: a, Field: "suspension", Rule: "required"}
	case req.End.IsZero():
		return nil, &FieldError{Action: a, Field: "suspension.end", Rule: "required"}
	case !req.End.After(now):
		return nil, &FieldError{Action: a, Field: "suspension.end", Rule: "must be in the future"}
	case req.End.After(next.NotAfter):
		return nil, &FieldError{Action: a, Field: "suspension.end",
			Rule: "must not be after the certificate's notAfter " + next.NotAfter.UTC().Format(time.RFC3339)}
	}
	if err := m.checkText(a, "suspension.notes", req.Notes, m.cfg.MaxNotes); err != nil {
		return nil, err
	}
	if req.Contract == "" && by.Kind == ActorOperator {
		return nil, &FieldError{Action: a, Field: "suspension.contract", Rule: "required when an operator suspends"}
	}
	if err := m.checkText(a, "suspension.contract", req.Contract, maxContractRef); err != nil {
		return nil, err
	}
	mode := normalIfDefault(in.Publication)
	next.Suspension = &Suspension{Start: now, End: req.End, Notes: req.Notes, Contract: req.Contract, By: by.ID}
	return &PendingChange{Kind: ChangeSuspension, Reason: ReasonCertificateHold, RevocationTime: now,
		RequestedAt: now, Mode: mode, Deadline: m.Deadline(mode, now)}, nil
}

func (m *Machine) release(next *State, mode Publication, now time.Time) (*PendingChange, error) {
	next.Suspension = nil
	mode = normalIfDefault(mode)
	return &PendingChange{Kind: ChangeReactivation, Reason: ReasonRemoveFromCRL, RevocationTime: now,
		RequestedAt: now, Mode: mode, Deadline: m.Deadline(mode, now)}, nil
}

func (m *Machine) revoke(next *State, by Actor, in Input, now time.Time) (*PendingChange, error) {
	const a = ActionRevoke
	req := in.Revocation
	if req == nil {
		return nil, &FieldError{Action: a, Field: "revocation", Rule: "required"}
	}
	if !slices.Contains(Requesters(), req.Requester) {
		return nil, &FieldError{Action: a, Field: "revocation.requester", Rule: "required: one of owner, certifier, third_party"}
	}
	if by.Kind == ActorHolder && req.Requester != RequesterOwner {
		return nil, &FieldError{Action: a, Field: "revocation.requester", Rule: "must be owner when the holder revokes"}
	}
	if !slices.Contains(Motivations(), req.Motivation) {
		return nil, &FieldError{Action: a, Field: "revocation.motivation", Rule: "required: one of " + joinNames(motivationNames[1:])}
	}
	rule := Matrix(req.Requester, req.Motivation)
	if !rule.Allowed {
		return nil, &FieldError{Action: a, Field: "revocation.motivation",
			Rule: fmt.Sprintf("%s may not be given by requester %s", req.Motivation, req.Requester)}
	}
	mode := in.Publication
	if mode == PublicationDefault {
		mode = rule.Default
	}
	if rule.Forced && mode != rule.Default {
		return nil, &FieldError{Action: a, Field: "publication", Rule: fmt.Sprintf("must be %s for %s", rule.Default, req.Motivation)}
	}
	if err := m.checkText(a, "revocation.notes", req.Notes, m.cfg.MaxNotes); err != nil {
		return nil, err
	}
	if req.Contract == "" && req.Motivation == MotivationContractWithdrawal {
		return nil, &FieldError{Action: a, Field: "revocation.contract", Rule: "required for contract_withdrawal"}
	}
	if err := m.checkText(a, "revocation.contract", req.Contract, maxContractRef); err != nil {
		return nil, err
	}
	rev := &Revocation{Requester: req.Requester, Motivation: req.Motivation, Notes: req.Notes,
		Contract: req.Contract, Reason: req.Motivation.Reason(), RequestedAt: now,
		RevocationTime: m.revocationTime(*next, now), Publication: mode, By: by.ID}
	return m.finishRevocation(next, rev), nil
}

// revocationTime dates a revocation: back to the start of the suspension for
// a suspended certificate (the Italian rule, DESIGN.md "X.509 mapping"),
// unless the configuration turns it off.
func (m *Machine) revocationTime(cur State, now time.Time) time.Time {
	if cur.Status == StatusSuspended && cur.Suspension != nil && !m.cfg.DateRevocationAtRequest {
		return cur.Suspension.Start
	}
	return now
}

func (m *Machine) finishRevocation(next *State, rev *Revocation) *PendingChange {
	next.Suspension = nil
	next.Revocation = rev
	return &PendingChange{Kind: ChangeRevocation, Reason: rev.Reason, RevocationTime: rev.RevocationTime,
		RequestedAt: rev.RequestedAt, Mode: rev.Publication, Deadline: m.Deadline(rev.Publication, rev.RequestedAt)}
}

func (m *Machine) holdEnd(next *State, now time.Time) (*PendingChange, error) {
	if now.Before(next.Suspension.End) {
		return nil, &TransitionError{From: StatusSuspended, Action: ActionReleaseHold,
			Rule: "suspension ends at " + next.Suspension.End.UTC().Format(time.RFC3339)}
	}
	if m.cfg.HoldEnd == HoldEndRevoke {
		rev := &Revocation{Requester: RequesterCertifier, Motivation: MotivationOfficeProcedure,
			Reason: MotivationOfficeProcedure.Reason(), RequestedAt: now,
			RevocationTime: m.revocationTime(*next, now), Publication: PublicationNormal, By: System().ID}
		return m.finishRevocation(next, rev), nil
	}
	return m.release(next, PublicationNormal, now)
}

// checkText refuses text that is not UTF-8, longer than max bytes, or holds
// control characters other than newline and tab (the store refuses NUL; the
// rest would garble audit records and CSV exports).
func (m *Machine) checkText(a Action, field, s string, max int) error {
	if !utf8.ValidString(s) {
		return &FieldError{Action: a, Field: field, Rule: "must be valid UTF-8"}
	}
	if len(s) > max {
		return &FieldError{Action: a, Field: field, Rule: fmt.Sprintf("must be at most %d bytes", max)}
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return &FieldError{Action: a, Field: field, Rule: "must not contain control characters"}
	}
	return nil
}

func normalIfDefault(p Publication) Publication {
	if p == PublicationDefault {
		return PublicationNormal
	}
	return p
}

func joinNames(names []string) string { return strings.Join(names, ", ") }
