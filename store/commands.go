package store

import "time"

// MessageType is the first byte of an encoded [Command]: the FSM switches on
// it, as Nomad's does. Values are stable on disk and on the wire: a value is
// never reused or renumbered, and a command that needs new fields gets a new
// type.
type MessageType uint8

// The message types, one per command.
const (
	PutOrganisationType  MessageType = 1
	PutUnitV1Type        MessageType = 2 // retired: units without a parent, still decoded from old logs
	PutOperatorV1Type    MessageType = 3 // retired: operators without a tax code, still decoded from old logs
	PutHolderType        MessageType = 4
	PutOrderType         MessageType = 5
	ChangeStatusType     MessageType = 6
	PrepareIntentType    MessageType = 7
	CompleteIntentType   MessageType = 8
	AbandonIntentType    MessageType = 9
	ReserveCRLNumberType MessageType = 10
	PublishCRLType       MessageType = 11
	PutReceiptType       MessageType = 12
	AppendAuditType      MessageType = 13
	SealAuditV1Type      MessageType = 14 // retired: a seal without its range and hashes, still decoded from old logs
	PutEvidenceType      MessageType = 15
	PutEnvelopeType      MessageType = 16
	AcquireLeaseType     MessageType = 17
	RenewLeaseType       MessageType = 18
	ReleaseLeaseType     MessageType = 19
	PutUnitType          MessageType = 20
	PutCredentialsType   MessageType = 21
	PutSessionType       MessageType = 22
	DeleteSessionType    MessageType = 23
	SealAuditType        MessageType = 24
	PutStepType          MessageType = 25
	DeleteStepsType      MessageType = 26
	PutOperatorType      MessageType = 27
	PutBlobsType         MessageType = 28
)

// Command is one typed write of a [Batch]. The set of commands is closed: only
// the types of this package implement it.
type Command interface {
	// MessageType returns the command's stable type byte.
	MessageType() MessageType
	command()
}

// Batch is a list of commands applied atomically: all of them, or none.
type Batch struct {
	// Org scopes IdempotencyKey. Required when IdempotencyKey is set.
	Org string
	// IdempotencyKey, when set, makes the batch apply once: the same key (in
	// the same Org) with the same commands returns the first [Result]; with
	// other commands, [ErrIdempotencyMismatch]. A key is kept for at least
	// [IdempotencyWindow] after its batch; a retry after that may apply
	// again. Empty for internal jobs.
	IdempotencyKey string
	// Fence, when set, makes the batch fail with [ErrLeaseLost] unless the
	// lease still has this holder and epoch and has not expired.
	Fence *LeaseToken
	// Commands are applied in order; later commands see earlier ones.
	Commands []Command
}

// IdempotencyWindow is how long an idempotency key is kept at least. Older
// keys are dropped, a few at a time, by later batches that carry a key
// (their entry time decides, so every node drops the same ones).
const IdempotencyWindow = 24 * time.Hour

// idempotencyPrune is how many expired keys one batch with a key drops:
// more than one, so the backlog shrinks while keys keep arriving.
const idempotencyPrune = 4

// Result is what a committed batch returns.
type Result struct {
	// Index is the commit index of the batch; every record the batch wrote
	// has it as its Version.
	Index uint64
	// Replayed is true when the result was stored by an earlier batch with
	// the same idempotency key.
	Replayed bool
	// Outputs has one entry per command, in order.
	Outputs []Output
}

// Output is the result of one command. Number is set by the commands that
// allocate a number: [ReserveCRLNumber] (the CRL number), [AppendAudit] (the
// sequence number), [SealAudit] (the last sealed sequence number),
// [AcquireLease] and [RenewLease] (the epoch).
type Output struct {
	Number    uint64
	ExpiresAt time.Time
}

// PutOrganisation creates (ExpectVersion zero) or replaces an organisation.
type PutOrganisation struct {
	Organisation  Organisation
	ExpectVersion uint64
}

// PutUnit creates (ExpectVersion zero) or replaces a unit; its organisation
// must exist, and its parent, when set, must be a main unit (one without a
// parent) of the same organisation. A unit that is the parent of others
// cannot get a parent itself (units form two levels).
type PutUnit struct {
	Unit          Unit
	ExpectVersion uint64
}

// PutOperator creates (ExpectVersion zero) or replaces an operator; its
// organisation must exist and its username be unused.
type PutOperator struct {
	Operator      Operator
	ExpectVersion uint64
}

// PutCredentials creates (ExpectVersion zero) or replaces an operator's
// credentials; the operator must exist in Credentials.OrgID.
type PutCredentials struct {
	Credentials   Credentials
	ExpectVersion uint64
}

// PutSession creates (ExpectVersion zero) or replaces a session (a login,
// or a use that moves LastSeen). The operator must exist in the session's
// organisation; a replaced session keeps its operator, organisation and
// creation time. A deleted session is never brought back by a late
// replacement: its version no longer matches.
type PutSession struct {
	Session       Session
	ExpectVersion uint64
}

// DeleteSession ends a session. Deleting a missing session is not an error
// (logout is idempotent).
type DeleteSession struct {
	ID string
}

// PutStep records a recognition step of an order, replacing the order's
// step of the same kind. The order must exist in the step's organisation,
// and the operator, when named, too.
type PutStep struct {
	Step StepRecord
}

// DeleteSteps drops an order's step of Kind, or every step of the order
// when Kind is empty: its recognition is recorded, or a step expired. A
// missing step is not an error.
type DeleteSteps struct {
	OrderID string
	Kind    string
}

// PutBlobs stores small blobs together with the batch that refers to
// them: they are committed when the batch is, with no write of their own
// before it. Each is read back through [BlobStore.Get] under [BlobHash] of
// its content; content already stored is not stored twice. A blob may be
// at most [MaxBatchBlob] bytes, and the PutBlobs of one batch at most
// [MaxBatchBlobs] bytes together; documents and other large blobs go
// through [BlobStore.Put] before the batch instead.
//
// The embedded backend carries them in the batch's Raft log entry, so they
// are as durable as the entry: every node writes them to its blob store
// as it applies the entry (a follower gets them too), and makes them
// durable before a snapshot lets the entry be compacted away.
type PutBlobs struct {
	Blobs [][]byte
}

// PutHolder creates (ExpectVersion zero) or replaces a holder identity. Its
// user ID, e-mail, mobile and IUT must be unused by any other holder.
type PutHolder struct {
	Holder        HolderIdentity
	ExpectVersion uint64
}

// PutOrder creates (ExpectVersion zero) or replaces an order. Creation also
// creates its [StatusRecord] in InitialStatus (draft or to_identify). The
// organisation and holder must exist; ExternalCode must be unused in the
// organisation; OrgID and CreatedAt never change.
type PutOrder struct {
	Order         Order
	ExpectVersion uint64
	InitialStatus Status
}

// ChangeStatus moves an order from Change.From (the expected status) to
// Change.To and appends Change to its history. ExpectVersion, when not zero,
// must also equal the status record's version. ActivatedAt, when set, is
// recorded as the activation date. CRL entries follow the new status: a
// suspended product's certificates are listed with certificateHold (reason
// 6, RFC 5280 §5.3.1), a revoked one's with Change.ReasonCode, and entries
// are removed when the product leaves both statuses.
type ChangeStatus struct {
	Change        StatusChange
	ExpectVersion uint64
	ActivatedAt   time.Time
}

// PrepareIntent commits the intent to sign a certificate before the key
// signs (two-phase issuance). The serial must be unused by the issuer.
type PrepareIntent struct {
	Intent IntentRecord
}

// CompleteIntent stores the issued product and completes the open intent of
// each of its certificates (matched by issuer and serial, same order).
type CompleteIntent struct {
	Product Product
}

// AbandonIntent closes an open intent whose certificate was never signed.
type AbandonIntent struct {
	IntentID string
	Reason   string
}

// ReserveCRLNumber durably reserves the next CRL number of a scope, before
// the CRL is signed; numbers strictly increase, gaps are allowed.
type ReserveCRLNumber struct {
	Scope CRLScope
}

// PublishCRL moves a scope's served-CRL pointer to Number, which must be
// reserved and larger than the current one, and marks the named status
// changes as published on it.
type PublishCRL struct {
	Scope      CRLScope
	Number     uint64
	ThisUpdate time.Time
	NextUpdate time.Time
	CRLBlob    string
	Changes    []string
}

// PutReceipt records a publication receipt. Receipts are never replaced.
type PutReceipt struct {
	Receipt Receipt
}

// AppendAudit appends an audit event; the store assigns its sequence
// number. Append it in the business batch it records.
type AppendAudit struct {
	Event AuditEvent
}

// SealAudit links up to Max unsealed audit events, in sequence order, into
// the SHA-256 chain. It is the sealing job's write. It seals events
// committed before its batch, not those the batch itself appends.
//
// The store fills in From and Hashes when it proposes the command (values
// given by the caller are replaced): the range and the chain hashes it
// computes from its committed state. Applying the command seals exactly that
// range and records exactly those hashes, so the log holds the chain as it
// was when sealed: an audit event later edited in the log no longer matches
// its hash when the log is replayed, and [Snapshot.VerifyAudit] names it.
// A range that no longer starts at the first unsealed event (another seal
// came first) fails with [ErrConflict] and changes nothing.
type SealAudit struct {
	Max uint32
	// From is the first sequence number sealed: one past the last sealed
	// event when the command was proposed. Zero only in commands of the
	// retired [SealAuditV1Type], which seal without a recorded chain.
	From uint64
	// Hashes are the chain hashes (see [ChainHash]) of events From,
	// From+1, ..., at most Max of them; empty when nothing was unsealed.
	Hashes [][]byte
}

// PutEvidence records an evidence reference. References are never replaced.
type PutEvidence struct {
	Evidence EvidenceRef
}

// PutEnvelope records an envelope reference. References are never replaced.
type PutEnvelope struct {
	Envelope EnvelopeRef
}

// AcquireLease takes the named lease for Holder for TTL. It fails with
// ErrConflict while another holder's lease is unexpired; it renews the
// holder's own unexpired lease; otherwise it starts a new epoch.
type AcquireLease struct {
	Name   string
	Holder string
	TTL    time.Duration
}

// RenewLease extends a lease that still has the token's holder and epoch
// and has not expired; otherwise it fails with ErrLeaseLost.
type RenewLease struct {
	Token LeaseToken
	TTL   time.Duration
}

// ReleaseLease ends a lease early if the token still holds it.
type ReleaseLease struct {
	Token LeaseToken
}

// MessageType implements [Command].
func (PutOrganisation) MessageType() MessageType { return PutOrganisationType }

// MessageType implements [Command].
func (PutUnit) MessageType() MessageType { return PutUnitType }

// MessageType implements [Command].
func (PutOperator) MessageType() MessageType { return PutOperatorType }

// MessageType implements [Command].
func (PutCredentials) MessageType() MessageType { return PutCredentialsType }

// MessageType implements [Command].
func (PutSession) MessageType() MessageType { return PutSessionType }

// MessageType implements [Command].
func (DeleteSession) MessageType() MessageType { return DeleteSessionType }

// MessageType implements [Command].
func (PutStep) MessageType() MessageType { return PutStepType }

// MessageType implements [Command].
func (DeleteSteps) MessageType() MessageType { return DeleteStepsType }

// MessageType implements [Command].
func (PutBlobs) MessageType() MessageType { return PutBlobsType }

// MessageType implements [Command].
func (PutHolder) MessageType() MessageType { return PutHolderType }

// MessageType implements [Command].
func (PutOrder) MessageType() MessageType { return PutOrderType }

// MessageType implements [Command].
func (ChangeStatus) MessageType() MessageType { return ChangeStatusType }

// MessageType implements [Command].
func (PrepareIntent) MessageType() MessageType { return PrepareIntentType }

// MessageType implements [Command].
func (CompleteIntent) MessageType() MessageType { return CompleteIntentType }

// MessageType implements [Command].
func (AbandonIntent) MessageType() MessageType { return AbandonIntentType }

// MessageType implements [Command].
func (ReserveCRLNumber) MessageType() MessageType { return ReserveCRLNumberType }

// MessageType implements [Command].
func (PublishCRL) MessageType() MessageType { return PublishCRLType }

// MessageType implements [Command].
func (PutReceipt) MessageType() MessageType { return PutReceiptType }

// MessageType implements [Command].
func (AppendAudit) MessageType() MessageType { return AppendAuditType }

// MessageType implements [Command].
func (c SealAudit) MessageType() MessageType {
	if c.From == 0 {
		return SealAuditV1Type
	}
	return SealAuditType
}

// MessageType implements [Command].
func (PutEvidence) MessageType() MessageType { return PutEvidenceType }

// MessageType implements [Command].
func (PutEnvelope) MessageType() MessageType { return PutEnvelopeType }

// MessageType implements [Command].
func (AcquireLease) MessageType() MessageType { return AcquireLeaseType }

// MessageType implements [Command].
func (RenewLease) MessageType() MessageType { return RenewLeaseType }

// MessageType implements [Command].
func (ReleaseLease) MessageType() MessageType { return ReleaseLeaseType }

func (PutOrganisation) command()  {}
func (PutUnit) command()          {}
func (PutOperator) command()      {}
func (PutHolder) command()        {}
func (PutCredentials) command()   {}
func (PutSession) command()       {}
func (DeleteSession) command()    {}
func (PutStep) command()          {}
func (DeleteSteps) command()      {}
func (PutBlobs) command()         {}
func (PutOrder) command()         {}
func (ChangeStatus) command()     {}
func (PrepareIntent) command()    {}
func (CompleteIntent) command()   {}
func (AbandonIntent) command()    {}
func (ReserveCRLNumber) command() {}
func (PublishCRL) command()       {}
func (PutReceipt) command()       {}
func (AppendAudit) command()      {}
func (SealAudit) command()        {}
func (PutEvidence) command()      {}
func (PutEnvelope) command()      {}
func (AcquireLease) command()     {}
func (RenewLease) command()       {}
func (ReleaseLease) command()     {}
