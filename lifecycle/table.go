package lifecycle

import "slices"

// Row is one line of the transition table: the action, the statuses it
// applies to, the resulting status and the permission it needs.
type Row struct {
	// Action is the action this row describes.
	Action Action
	// From lists the statuses the action applies to.
	From []Status
	// To is the resulting status.
	To Status
	// Permission is what an operator must be granted to take the action.
	Permission Permission
	// Holder reports whether the certificate's holder may take the action
	// on their own product (self-service portal guide, "suspend or revoke").
	Holder bool
	// Source cites the rule.
	Source string
}

// Table returns the transition table: the single source of truth for which
// action applies to which status, what it leads to and who may take it
// (issue #5; DESIGN.md "Statuses"). Each call returns a fresh copy. A
// [Machine] built with [HoldEndRevoke] replaces the result of
// [ActionReleaseHold] with [StatusRevoked]; see [Machine.Table].
func Table() []Row {
	return []Row{
		{Action: ActionCreate, From: []Status{StatusNone}, To: StatusDraft, Permission: PermOrderCreate,
			Source: "Manuale operatore, Product Request: a request can be saved as a draft at any step"},
		{Action: ActionUpdate, From: []Status{StatusDraft, StatusToIdentify}, To: StatusSame, Permission: PermOrderUpdate,
			Source: "Manuale operatore, Introduction: requests can be edited before they are completed"},
		{Action: ActionDelete, From: []Status{StatusDraft, StatusToIdentify, StatusToIssue}, To: StatusDeleted, Permission: PermOrderDelete,
			Source: "Manuale operatore, Introduction: requests can be deleted before they are completed"},
		{Action: ActionSubmit, From: []Status{StatusDraft}, To: StatusToIdentify, Permission: PermOrderSubmit,
			Source: "Manuale operatore, Product Request: a completed request waits for recognition"},
		{Action: ActionRecordRecognition, From: []Status{StatusToIdentify}, To: StatusToIssue, Permission: PermRecordRecognition,
			Source: "Manuale operatore, recognition chapters: the status becomes To issue"},
		{Action: ActionIssue, From: []Status{StatusToIssue}, To: StatusActive, Permission: PermProductIssue,
			Source: "Manuale operatore, Issuance: the RAO's last activity is to issue the certificate"},
		{Action: ActionSuspend, From: []Status{StatusActive}, To: StatusSuspended, Permission: PermProductSuspend, Holder: true,
			Source: "Manuale operatore, Product Suspension; holder guide, suspension"},
		{Action: ActionReactivate, From: []Status{StatusSuspended}, To: StatusActive, Permission: PermProductReactivate,
			Source: "DESIGN.md Lifecycle: reactivate early"},
		{Action: ActionRevoke, From: []Status{StatusActive, StatusSuspended}, To: StatusRevoked, Permission: PermProductRevoke, Holder: true,
			Source: "Manuale operatore, Product Revocation; holder guide, revocation"},
		{Action: ActionReleaseHold, From: []Status{StatusSuspended}, To: StatusActive, Permission: PermSchedule,
			Source: "Manuale operatore, Introduction: at the end date the certificate becomes valid again"},
		{Action: ActionExpire, From: []Status{StatusActive, StatusSuspended}, To: StatusExpired, Permission: PermSchedule,
			Source: "RFC 5280 §4.1.2.5: the certificate is not valid after notAfter"},
		{Action: ActionResendEnvelope, From: []Status{StatusActive}, To: StatusSame, Permission: PermProductResendEnvelope,
			Source: "Manuale operatore, Encrypted envelope resend"},
	}
}

// StatusSame as a [Row.To] means the action leaves the status unchanged. It
// is never the status of a request.
const StatusSame Status = 255

// row returns the row of a in t.
func row(t []Row, a Action) (Row, bool) {
	i := slices.IndexFunc(t, func(r Row) bool { return r.Action == a })
	if i < 0 {
		return Row{}, false
	}
	return t[i], true
}

// Applies reports whether r's action applies to status s.
func (r Row) Applies(s Status) bool { return slices.Contains(r.From, s) }
