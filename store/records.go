package store

import "time"

// Status is the stored status of an order and its product. The values are the
// wire and storage names and never change; the lifecycle package maps its own
// statuses onto them.
type Status string

// The statuses of DESIGN.md ("Statuses"). Transitions are decided by the
// lifecycle package; the store only checks the expected status of a
// [ChangeStatus] and keeps CRL entries in step with it.
const (
	StatusDraft      Status = "draft"
	StatusToIdentify Status = "to_identify"
	StatusToIssue    Status = "to_issue"
	StatusActive     Status = "active"
	StatusSuspended  Status = "suspended"
	StatusRevoked    Status = "revoked"
	StatusExpired    Status = "expired"
	StatusDeleted    Status = "deleted"
)

// Statuses lists every status in lifecycle order.
func Statuses() []Status {
	return []Status{StatusDraft, StatusToIdentify, StatusToIssue, StatusActive,
		StatusSuspended, StatusRevoked, StatusExpired, StatusDeleted}
}

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	switch s {
	case StatusDraft, StatusToIdentify, StatusToIssue, StatusActive,
		StatusSuspended, StatusRevoked, StatusExpired, StatusDeleted:
		return true
	}
	return false
}

// listed reports whether a product in status s has entries on its CRL
// (certificateHold for suspended, the final reason for revoked).
func (s Status) listed() bool { return s == StatusSuspended || s == StatusRevoked }

// PublicationMode is how fast a status change must reach a CRL.
type PublicationMode string

// Publication modes of DESIGN.md ("Lifecycle"): normal within 24 h,
// immediate within 1 h. The deadline itself is computed by the lifecycle
// package and stored in [StatusChange.Deadline].
const (
	PublicationNone      PublicationMode = ""
	PublicationNormal    PublicationMode = "normal"
	PublicationImmediate PublicationMode = "immediate"
)

// IntentState is the state of a two-phase issuance intent.
type IntentState string

// Intent states: open until the certificate is stored (completed) or the
// recovery job gives it up (abandoned).
const (
	IntentOpen      IntentState = "open"
	IntentCompleted IntentState = "completed"
	IntentAbandoned IntentState = "abandoned"
)

// Organisation is a partner organisation (client code).
type Organisation struct {
	ID         string
	Name       string
	ClientCode string
	CreatedAt  time.Time
	Version    uint64 // the commit index that last wrote the record
}

// Unit is an office of an organisation: a main unit, or a secondary unit
// whose ParentID names a main unit of the same organisation.
type Unit struct {
	ID       string
	OrgID    string
	Name     string
	ParentID string
	Version  uint64
}

// Operator is a person who acts for an organisation. Username is unique in
// the store.
type Operator struct {
	ID       string
	OrgID    string
	UnitID   string
	Username string
	Name     string
	Email    string
	// TaxCode is the operator's own tax code, as their qualified signature
	// certificates carry it (serialNumber TINIT-<tax code>): the register
	// recognition reports are checked against.
	TaxCode   string
	Role      string
	Disabled  bool
	CreatedAt time.Time
	Version   uint64
}

// HolderIdentity is the applicant and certificate holder. UserID, Email,
// Mobile and IUT are each unique among holder identities (compared
// case-insensitively); TaxCode is not, because one person may hold several
// identities (e.g. with alias e-mail addresses).
type HolderIdentity struct {
	ID        string
	UserID    string // the holder's self-service account, empty until it exists
	TaxCode   string
	FirstName string
	Surname   string
	BirthDate time.Time
	Email     string
	Mobile    string
	IUT       string // the holder's unique identifier, the certificate's dnQualifier
	CreatedAt time.Time
	Version   uint64
}

// Order is a request for a product, entered by an operator. Its status lives
// in a narrow [StatusRecord] with the same ID. ExternalCode is unique within
// the organisation. CreatedAt is the input date and never changes.
type Order struct {
	ID            string
	OrgID         string
	UnitID        string
	OperatorID    string
	HolderID      string
	ExternalCode  string
	ProductType   string
	Nickname      string
	DeviceSerial  string
	DurationMonth uint32
	RoleOrg       string
	Role          string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Version       uint64
}

// Certificate is one certificate of a product. The DER lives in the blob
// store; CertificateBlob is its SHA-256 (hex).
type Certificate struct {
	Issuer          string
	Shard           uint32
	Serial          []byte // big-endian magnitude, 1-20 octets, no leading zero
	NotBefore       time.Time
	NotAfter        time.Time
	CertificateBlob string
}

// Scope returns the CRL scope the certificate is listed in.
func (c Certificate) Scope() CRLScope { return CRLScope{Issuer: c.Issuer, Shard: c.Shard} }

// Product is an issued product: one or two certificates (signature and, on
// devices, authentication) for an order. It holds no status: see
// [StatusRecord].
type Product struct {
	ID           string
	OrgID        string
	OrderID      string
	HolderID     string
	ProductType  string
	IssuedAt     time.Time
	Certificates []Certificate
	Version      uint64
}

// StatusRecord is the narrow, hot record of an order's status: suspend,
// reactivate and revoke rewrite only this record (three index entries), never
// the wide order or product. OrderID is shared with the order; InputDate
// copies the order's CreatedAt so the status index can sort by it.
type StatusRecord struct {
	OrderID     string
	OrgID       string
	Status      Status
	InputDate   time.Time
	ActivatedAt time.Time
	ProductID   string
	UpdatedAt   time.Time
	Version     uint64
}

// StatusChange is one transition of an order, kept for history and
// publication. A change with a Deadline is pending publication until a
// [PublishCRL] names it; PublishedAt and CRLNumber then prove when and where
// it was published.
type StatusChange struct {
	ID             string
	OrgID          string
	OrderID        string
	From           Status
	To             Status
	At             time.Time
	ActorID        string
	Requester      string
	ReasonCode     int32 // RFC 5280 §5.3.1 CRLReason, -1 when none
	Notes          string
	ContractBlob   string
	Mode           PublicationMode
	Deadline       time.Time
	HoldUntil      time.Time
	RevocationTime time.Time
	InvalidityDate time.Time
	PublishedAt    time.Time
	CRLNumber      uint64
	Version        uint64
}

// CRLScope names one CRL: an issuer and a shard of its serials.
type CRLScope struct {
	Issuer string
	Shard  uint32
}

// CRLEntry is one revoked or held serial. Only revoked and held serials have
// entries (STORE.md), keyed by issuer, shard and serial, so a CRL build is
// one ordered range scan.
type CRLEntry struct {
	Issuer         string
	Shard          uint32
	Serial         []byte
	ReasonCode     int32
	RevocationTime time.Time
	InvalidityDate time.Time
	OrderID        string
	ProductID      string
	Version        uint64
}

// CRLRecord is the state of one CRL scope: the last reserved CRL number and
// the pointer to the served CRL, which only moves to a larger number.
type CRLRecord struct {
	Issuer      string
	Shard       uint32
	Reserved    uint64
	Number      uint64
	ThisUpdate  time.Time
	NextUpdate  time.Time
	CRLBlob     string
	PublishedAt time.Time
	Version     uint64
}

// Receipt proves that a CRL was published to a sink.
type Receipt struct {
	ID          string
	Issuer      string
	Shard       uint32
	CRLNumber   uint64
	Sink        string
	PublishedAt time.Time
	Detail      string
	Version     uint64
}

// EvidenceRef points to a recognition evidence bundle kept in blobs.
type EvidenceRef struct {
	ID        string
	OrgID     string
	OrderID   string
	Method    string
	Blobs     []string
	CreatedAt time.Time
	Version   uint64
}

// EnvelopeRef points to an activation-code envelope kept in blobs.
type EnvelopeRef struct {
	ID        string
	OrgID     string
	OrderID   string
	ProductID string
	Format    string
	Blob      string
	CreatedAt time.Time
	Version   uint64
}

// AuditEvent is one audit record. Seq is assigned by the store in commit
// order; Hash is set when the sealing step links the event into the SHA-256
// chain (see [ChainHash]).
type AuditEvent struct {
	Seq     uint64
	OrgID   string
	At      time.Time
	ActorID string
	Action  string
	Subject string
	Details string
	Hash    []byte
	Version uint64
}

// Lease is a named lease for a singleton job. Epoch grows by one each time
// the lease changes hands (or is taken again after it expired).
type Lease struct {
	Name      string
	Holder    string
	Epoch     uint64
	ExpiresAt time.Time
	Version   uint64
}

// LeaseToken is what a lease holder carries: set it as [Batch.Fence] on every
// write made under the lease.
type LeaseToken struct {
	Name   string
	Holder string
	Epoch  uint64
}

// IntentRecord is a committed intent to sign a certificate (two-phase
// issuance): the serial is unique per issuer among intents.
type IntentRecord struct {
	ID        string
	OrgID     string
	OrderID   string
	Issuer    string
	Shard     uint32
	Serial    []byte
	Profile   string
	State     IntentState
	ProductID string
	Reason    string
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   uint64
}

// Credentials are an operator's login state. Sealed is opaque to the store:
// the caller seals the secrets (password hash, TOTP secret) under its
// key-encryption key before they reach a command, so no secret is ever
// stored or logged in clear. The counters beside it are not secret: the
// TOTP confirmation, the last accepted TOTP step (replay protection), the
// consecutive failures and the lockout end.
type Credentials struct {
	OperatorID  string
	OrgID       string
	Sealed      []byte
	Confirmed   bool
	LastStep    int64
	Failures    uint32
	LockedUntil time.Time
	UpdatedAt   time.Time
	Version     uint64
}

// Session is an operator's logged-in session. ID is the lower-case hex
// SHA-256 of the bearer token (the token itself is never stored). A
// session ends at ExpiresAt, or when deleted (logout, a disabled operator,
// a reset enrolment, the cleanup of expired sessions).
type Session struct {
	ID         string
	OperatorID string
	OrgID      string
	CreatedAt  time.Time
	LastSeen   time.Time
	ExpiresAt  time.Time
	Version    uint64
}

// StepRecord is what an applicant's recognition step produced (the signed
// request form, a video provider's session record), kept in blobs until the
// order's recognition is recorded or the step expires. An order has at most
// one step of each kind; OperatorID is the operator who took the step, or
// empty when the step came from a provider itself.
type StepRecord struct {
	OrderID    string
	Kind       string
	OrgID      string
	OperatorID string
	Blob       string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// Schedule is the narrow record of an order's time-driven events, kept by
// the store in step with the status and the product: HoldUntil while the
// order is suspended with an end date, NotAfter (the earliest notAfter of
// its certificates) while it is active or suspended. An order with neither
// has no schedule record. It serves [Snapshot.DueSchedules] without
// widening the [StatusRecord].
type Schedule struct {
	OrderID   string
	OrgID     string
	Status    Status
	HoldUntil time.Time
	NotAfter  time.Time
	Version   uint64
}
