package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Store is the platform's durable state behind one interface (STORE.md):
// batches of typed commands in, consistent snapshots out. The embedded
// backend ([Open]) keeps in-memory indexed tables made durable by Raft; a PostgreSQL
// backend is planned behind the same interface and conformance suite
// (store/storetest).
type Store interface {
	// Apply commits every command of b, or none. It returns after the change
	// is durable (Raft: committed on a quorum and applied). A failed
	// precondition returns an error wrapping ErrConflict and changes
	// nothing. The same IdempotencyKey with the same content returns the
	// first result; with other content, ErrIdempotencyMismatch. Invalid
	// input returns a *FieldError wrapping ErrInvalidInput before anything
	// is proposed.
	Apply(ctx context.Context, b *Batch) (*Result, error)
	// Snapshot opens a consistent read view. Close it promptly.
	Snapshot(ctx context.Context) (Snapshot, error)
	// Leases returns the named leases with fencing epochs, for singleton
	// jobs.
	Leases() Leases
	// Blobs returns the content-addressed blob store.
	Blobs() BlobStore
	// Health reports what stops the store from taking writes (it is
	// closed, or its blob writer failed and it must be reopened), or nil.
	Health() error
	// Close stops the store. Further calls fail with ErrClosed.
	Close() error
}

// Snapshot is a consistent, read-only view of the state at one commit.
// Getters return copies and ErrNotFound for a missing record. The PostgreSQL
// backend runs them in a REPEATABLE READ READ ONLY transaction under the
// context given to [Store.Snapshot].
type Snapshot interface {
	// Index is the commit index the view reflects.
	Index() uint64

	Organisation(id string) (Organisation, error)
	Unit(id string) (Unit, error)
	Operator(id string) (Operator, error)
	// OperatorByUsername finds an operator by username, compared
	// case-insensitively (usernames are unique).
	OperatorByUsername(username string) (Operator, error)
	// Organisations returns every organisation, sorted by ID.
	Organisations() ([]Organisation, error)
	// Units returns an organisation's units, sorted by ID.
	Units(orgID string) ([]Unit, error)
	// Operators returns an organisation's operators, sorted by ID.
	Operators(orgID string) ([]Operator, error)
	// Credentials returns an operator's credentials.
	Credentials(operatorID string) (Credentials, error)
	// Session returns a session by ID (the hex SHA-256 of its token).
	Session(id string) (Session, error)
	// OperatorSessions returns an operator's sessions, sorted by ID.
	OperatorSessions(operatorID string) ([]Session, error)
	// Steps returns an order's recognition steps, sorted by kind.
	Steps(orderID string) ([]StepRecord, error)
	// ExpiredSteps returns up to limit recognition steps whose ExpiresAt is
	// at or before before, oldest first.
	ExpiredSteps(before time.Time, limit int) ([]StepRecord, error)
	// ExpiredSessions returns up to limit sessions whose ExpiresAt is at or
	// before before, earliest first: the cleanup's query.
	ExpiredSessions(before time.Time, limit int) ([]Session, error)
	// HoldsEnding returns up to limit schedules of suspended orders whose
	// suspension ends in [from, to], earliest first: the scheduler's query
	// for holds to release (from zero) and for the next one (from just
	// after now).
	HoldsEnding(from, to time.Time, limit int) ([]Schedule, error)
	// Expiring returns up to limit schedules of active or suspended orders
	// whose product's notAfter is in [from, to], earliest first.
	Expiring(from, to time.Time, limit int) ([]Schedule, error)
	Holder(id string) (HolderIdentity, error)
	Order(id string) (Order, error)
	// Status returns the narrow status record of an order.
	Status(orderID string) (StatusRecord, error)
	Product(id string) (Product, error)
	// ProductBySerial finds the product holding a certificate.
	ProductBySerial(issuer string, serial []byte) (Product, error)
	StatusChange(id string) (StatusChange, error)
	// StatusChanges returns an order's history, oldest first.
	StatusChanges(orderID string) ([]StatusChange, error)
	// DueStatusChanges returns up to limit status changes pending
	// publication whose deadline is at or before before, earliest first:
	// the CRL scheduler's query.
	DueStatusChanges(before time.Time, limit int) ([]StatusChange, error)
	Intent(id string) (IntentRecord, error)
	// OpenIntents calls fn for each open issuance intent, oldest first,
	// until fn returns an error.
	OpenIntents(fn func(IntentRecord) error) error
	CRL(scope CRLScope) (CRLRecord, error)
	// CRLEntries calls fn for each entry of the scope revoked at or before
	// cutoff, in increasing serial order, without holding them all, until
	// fn returns an error.
	CRLEntries(scope CRLScope, cutoff time.Time, fn func(CRLEntry) error) error
	Receipt(id string) (Receipt, error)
	Evidence(id string) (EvidenceRef, error)
	Envelope(id string) (EnvelopeRef, error)
	// OrderEvidence returns an order's evidence references, sorted by ID.
	OrderEvidence(orderID string) ([]EvidenceRef, error)
	// OrderEnvelopes returns an order's envelope references, sorted by ID.
	OrderEnvelopes(orderID string) ([]EnvelopeRef, error)
	Lease(name string) (Lease, error)
	// Search runs a search of DESIGN.md ("Search"); see [SearchQuery].
	Search(q SearchQuery) (*SearchPage, error)
	// AuditEvents calls fn for each audit event from sequence number from,
	// in order, until fn returns an error.
	AuditEvents(from uint64, fn func(AuditEvent) error) error
	// VerifyAudit checks the whole audit chain (see [VerifyAuditChain]),
	// that its head matches the store's record of it and that no sealed
	// event was found changed when its seal was applied (an event edited in
	// the log; see [SealAudit]); it returns nil or an *AuditChainError
	// naming the first bad sequence number.
	VerifyAudit() error
	// CheckInvariants verifies the rules of STORE.md on the whole view:
	// every index agrees with a full scan, every suspended or revoked
	// product has exactly one CRL entry per certificate in its scope and no
	// other product has any, every completed intent has its product.
	CheckInvariants() error
	// Close releases the view.
	Close()
}

// Leases are named leases with fencing epochs for singleton jobs (CRL
// scopes, hold release, expiry, audit sealing, intent recovery). Every write
// made under a lease carries its token as [Batch.Fence].
type Leases interface {
	// Acquire takes the lease for holder for ttl. It fails with ErrConflict
	// while another holder's lease has not expired.
	Acquire(ctx context.Context, name, holder string, ttl time.Duration) (LeaseToken, time.Time, error)
	// Renew extends the lease; ErrLeaseLost if the token no longer holds it.
	Renew(ctx context.Context, t LeaseToken, ttl time.Duration) (time.Time, error)
	// Release ends the lease early; releasing a lost lease is not an error.
	Release(ctx context.Context, t LeaseToken) error
}

// BlobStore keeps documents, signed forms, certificates and envelopes by
// their SHA-256 (lower-case hex). A blob that no longer matches its hash is
// reported as corrupt (ErrCorrupt), never served.
type BlobStore interface {
	// Put stores data and returns its hash. Storing existing content is a
	// no-op.
	Put(ctx context.Context, data []byte) (string, error)
	// PutAll stores several blobs and returns their hashes, in order, once
	// every one is durable: a caller about to commit state that refers to
	// them pays for one round of writes rather than one per blob.
	PutAll(ctx context.Context, data ...[]byte) ([]string, error)
	// Get returns the content of hash, verified; ErrNotFound or ErrCorrupt.
	Get(ctx context.Context, hash string) ([]byte, error)
	// Has reports whether a blob is present (without verifying it).
	Has(ctx context.Context, hash string) (bool, error)
}

// BlobHash returns the name a blob is stored under: the lower-case hex
// SHA-256 of data. A caller that stores blobs with [PutBlobs] names them
// in its references with it.
func BlobHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// applier is what lease helpers need from a store.
type applier interface {
	Apply(ctx context.Context, b *Batch) (*Result, error)
}

// leases implements Leases with lease commands.
type leases struct{ s applier }

func (l leases) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (LeaseToken, time.Time, error) {
	r, err := l.s.Apply(ctx, &Batch{Commands: []Command{AcquireLease{Name: name, Holder: holder, TTL: ttl}}})
	if err != nil {
		return LeaseToken{}, time.Time{}, err
	}
	out := r.Outputs[0]
	return LeaseToken{Name: name, Holder: holder, Epoch: out.Number}, out.ExpiresAt, nil
}

func (l leases) Renew(ctx context.Context, t LeaseToken, ttl time.Duration) (time.Time, error) {
	r, err := l.s.Apply(ctx, &Batch{Commands: []Command{RenewLease{Token: t, TTL: ttl}}})
	if err != nil {
		return time.Time{}, err
	}
	return r.Outputs[0].ExpiresAt, nil
}

func (l leases) Release(ctx context.Context, t LeaseToken) error {
	_, err := l.s.Apply(ctx, &Batch{Commands: []Command{ReleaseLease{Token: t}}})
	return err
}
