package lifecycle

// Status is the status of an order or product. The zero value, [StatusNone],
// is the status of a request that does not exist yet. Wire names (String,
// MarshalText) are stable storage and API names and never change.
type Status uint8

// Statuses, in workflow order (Manuale operatore, "Product Management").
const (
	// StatusNone is the status of a request before it is created.
	StatusNone Status = iota
	// StatusDraft is a request being entered, saved at any step.
	StatusDraft
	// StatusToIdentify is a complete request waiting for the applicant's recognition.
	StatusToIdentify
	// StatusToIssue is a recognised request waiting for the RAO to issue it.
	StatusToIssue
	// StatusActive is an issued, valid certificate.
	StatusActive
	// StatusSuspended is a certificate on hold until its suspension end date.
	StatusSuspended
	// StatusRevoked is a permanently revoked certificate (terminal).
	StatusRevoked
	// StatusExpired is a certificate past its notAfter (terminal).
	StatusExpired
	// StatusDeleted is a request deleted before completion (terminal).
	StatusDeleted
)

var statusNames = []string{
	StatusNone:       "none",
	StatusDraft:      "draft",
	StatusToIdentify: "to_identify",
	StatusToIssue:    "to_issue",
	StatusActive:     "active",
	StatusSuspended:  "suspended",
	StatusRevoked:    "revoked",
	StatusExpired:    "expired",
	StatusDeleted:    "deleted",
}

// Statuses returns every status, [StatusNone] first, in workflow order.
func Statuses() []Status {
	out := make([]Status, len(statusNames))
	for i := range out {
		out[i] = Status(i)
	}
	return out
}

// String returns the status's wire name, such as "to_identify".
func (s Status) String() string {
	if s == StatusSame {
		return "same"
	}
	return wireName("Status", statusNames, int(s))
}

// Valid reports whether s is one of the declared statuses.
func (s Status) Valid() bool { return int(s) < len(statusNames) }

// Terminal reports whether no action leaves s.
func (s Status) Terminal() bool {
	return s == StatusRevoked || s == StatusExpired || s == StatusDeleted
}

// Issued reports whether a certificate exists in status s (active, suspended,
// revoked or expired).
func (s Status) Issued() bool {
	return s == StatusActive || s == StatusSuspended || s == StatusRevoked || s == StatusExpired
}

// ParseStatus returns the status whose wire name is s.
func ParseStatus(s string) (Status, error) {
	i, err := parseWire("status", statusNames, s)
	return Status(i), err
}

// MarshalText returns the wire name; unknown values are refused.
func (s Status) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, &FieldError{Field: "status", Rule: "unknown value " + s.String()}
	}
	return []byte(s.String()), nil
}

// UnmarshalText parses a wire name.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Action is something done to an order or product. Wire names are stable.
type Action uint8

// Actions. The zero value is not an action.
const (
	actionInvalid Action = iota
	// ActionCreate saves a new request as a draft.
	ActionCreate
	// ActionUpdate edits a request that is not complete.
	ActionUpdate
	// ActionDelete deletes a request that is not complete.
	ActionDelete
	// ActionSubmit completes the request entry (draft → to_identify).
	ActionSubmit
	// ActionRecordRecognition records the applicant's recognition evidence
	// (to_identify → to_issue).
	ActionRecordRecognition
	// ActionIssue issues the certificate (to_issue → active).
	ActionIssue
	// ActionSuspend puts the certificate on hold until an end date.
	ActionSuspend
	// ActionReactivate ends a suspension early.
	ActionReactivate
	// ActionRevoke revokes the certificate permanently.
	ActionRevoke
	// ActionReleaseHold is the end of a suspension at its end date, done by
	// the platform's scheduler; see [HoldEndPolicy].
	ActionReleaseHold
	// ActionExpire marks a certificate expired at its notAfter, done by the
	// platform's scheduler.
	ActionExpire
	// ActionResendEnvelope mails the activation-code envelope again with a
	// new passphrase.
	ActionResendEnvelope
)

var actionNames = []string{
	actionInvalid:           "",
	ActionCreate:            "create",
	ActionUpdate:            "update",
	ActionDelete:            "delete",
	ActionSubmit:            "submit",
	ActionRecordRecognition: "record_recognition",
	ActionIssue:             "issue",
	ActionSuspend:           "suspend",
	ActionReactivate:        "reactivate",
	ActionRevoke:            "revoke",
	ActionReleaseHold:       "release_hold",
	ActionExpire:            "expire",
	ActionResendEnvelope:    "resend_envelope",
}

// Actions returns every action in table order.
func Actions() []Action {
	out := make([]Action, 0, len(actionNames)-1)
	for i := 1; i < len(actionNames); i++ {
		out = append(out, Action(i))
	}
	return out
}

// String returns the action's wire name, such as "record_recognition".
func (a Action) String() string { return wireName("Action", actionNames, int(a)) }

// Valid reports whether a is one of the declared actions.
func (a Action) Valid() bool { return a > actionInvalid && int(a) < len(actionNames) }

// ParseAction returns the action whose wire name is s.
func ParseAction(s string) (Action, error) {
	i, err := parseWire("action", actionNames, s)
	return Action(i), err
}

// MarshalText returns the wire name; unknown values are refused.
func (a Action) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, &FieldError{Field: "action", Rule: "unknown value " + a.String()}
	}
	return []byte(a.String()), nil
}

// UnmarshalText parses a wire name.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
