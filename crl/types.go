package crl

import (
	"context"
	"iter"
	"math/big"
	"slices"
	"time"
)

// Reason is a CRLReason code (RFC 5280 §5.3.1). Package lifecycle maps the
// manual's revocation reasons to these codes; this package only encodes them.
type Reason int

// CRLReason codes (RFC 5280 §5.3.1). Value 7 is not used.
const (
	Unspecified          Reason = 0
	KeyCompromise        Reason = 1
	CACompromise         Reason = 2
	AffiliationChanged   Reason = 3
	Superseded           Reason = 4
	CessationOfOperation Reason = 5
	CertificateHold      Reason = 6
	RemoveFromCRL        Reason = 8
	PrivilegeWithdrawn   Reason = 9
	AACompromise         Reason = 10
)

var reasonNames = map[Reason]string{
	Unspecified: "unspecified", KeyCompromise: "keyCompromise", CACompromise: "cACompromise",
	AffiliationChanged: "affiliationChanged", Superseded: "superseded",
	CessationOfOperation: "cessationOfOperation", CertificateHold: "certificateHold",
	RemoveFromCRL: "removeFromCRL", PrivilegeWithdrawn: "privilegeWithdrawn", AACompromise: "aACompromise",
}

// String returns the RFC 5280 name of the reason.
func (r Reason) String() string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return "Reason(" + itoa(int(r)) + ")"
}

// Valid reports whether r is a CRLReason code RFC 5280 defines.
func (r Reason) Valid() bool {
	_, ok := reasonNames[r]
	return ok
}

// State is the revocation status of a certificate as status services see it.
type State uint8

// States. The zero value is Good.
const (
	Good State = iota
	Held
	Revoked
	Unknown
)

// String returns the lower-case name of the state.
func (s State) String() string {
	switch s {
	case Good:
		return "good"
	case Held:
		return "held"
	case Revoked:
		return "revoked"
	case Unknown:
		return "unknown"
	}
	return "State(" + itoa(int(s)) + ")"
}

// Kind is the kind of a status change.
type Kind uint8

// Kinds of status change (manual: suspend, reactivate, revoke).
const (
	Revoke Kind = iota + 1
	Suspend
	Reactivate
)

// String returns the lower-case name of the kind.
func (k Kind) String() string {
	switch k {
	case Revoke:
		return "revoke"
	case Suspend:
		return "suspend"
	case Reactivate:
		return "reactivate"
	}
	return "Kind(" + itoa(int(k)) + ")"
}

// Mode is the publication mode of a status change (operator manual:
// normal = on a CRL within 24 hours, immediate = within one hour). The
// deadline itself is computed by package lifecycle and carried by [Change].
type Mode uint8

// Publication modes.
const (
	Normal Mode = iota + 1
	Immediate
)

// String returns the lower-case name of the mode.
func (m Mode) String() string {
	switch m {
	case Normal:
		return "normal"
	case Immediate:
		return "immediate"
	}
	return "Mode(" + itoa(int(m)) + ")"
}

// Scope names the set of certificates one CRL covers: in registra, one
// issuing CA.
type Scope string

// Entry is one revokedCertificates entry of a CRL (RFC 5280 §5.1.2.6).
type Entry struct {
	// SerialNumber is the certificate's serial number.
	SerialNumber *big.Int
	// RevocationTime is the revocation date: for a suspension its start,
	// for a revocation of a suspended certificate the start of the
	// suspension (Italian rule, see DESIGN.md), for removeFromCRL the
	// reactivation time.
	RevocationTime time.Time
	// ReasonCode is the CRLReason; Unspecified means no reasonCode
	// extension (RFC 5280 §5.3.1: SHOULD be absent rather than 0).
	ReasonCode Reason
	// InvalidityDate is when the key is known or suspected to have been
	// compromised (RFC 5280 §5.3.2); zero means unknown, no extension.
	InvalidityDate time.Time
}

// Change is one status change of a certificate, as recorded in the store.
type Change struct {
	// Seq orders the changes of a scope; it strictly increases.
	Seq uint64
	// SerialNumber is the certificate's serial number.
	SerialNumber *big.Int
	// Kind is revoke, suspend or reactivate.
	Kind Kind
	// From is the state before the change: Good or Held.
	From State
	// Reason is the final CRLReason of a revocation; ignored otherwise.
	Reason Reason
	// RevocationTime is the effective date of the change: the revocation
	// date a CRL lists (back-dated to the suspension start when a
	// suspended certificate is revoked), the suspension start, or the
	// reactivation time.
	RevocationTime time.Time
	// InvalidityDate is known-compromise time of a revocation; zero when
	// unknown.
	InvalidityDate time.Time
	// RequestedAt is when the change was committed.
	RequestedAt time.Time
	// Mode is the publication mode.
	Mode Mode
	// Deadline is the latest time by which a published CRL must carry the
	// change.
	Deadline time.Time
}

// Status is the live revocation status of one certificate.
type Status struct {
	State State
	// RevokedAt is the revocation date (Held: the suspension start).
	RevokedAt time.Time
	// Reason is the CRLReason (CertificateHold when Held).
	Reason Reason
	// InvalidityDate is zero when unknown.
	InvalidityDate time.Time
	// Version changes whenever the status changes; the OCSP responder keys
	// its cache on it.
	Version uint64
}

// Apply returns the status after c. It is the one place that says how a
// change moves a certificate between good, held and revoked; the fakes, the
// delta builder and [Timeline] all use it.
func (s Status) Apply(c Change) Status {
	switch c.Kind {
	case Revoke:
		return Status{State: Revoked, RevokedAt: c.RevocationTime, Reason: c.Reason,
			InvalidityDate: c.InvalidityDate, Version: s.Version + 1}
	case Suspend:
		return Status{State: Held, RevokedAt: c.RevocationTime, Reason: CertificateHold, Version: s.Version + 1}
	case Reactivate:
		return Status{State: Good, Version: s.Version + 1}
	}
	return s
}

// Listed reports whether a CRL lists a certificate in this status.
func (s Status) Listed() bool { return s.State == Held || s.State == Revoked }

// Entry returns the CRL entry for a listed status.
func (s Status) Entry(serial *big.Int) Entry {
	r := s.Reason
	return Entry{SerialNumber: serial, RevocationTime: s.RevokedAt, ReasonCode: r, InvalidityDate: s.InvalidityDate}
}

// Source is the read side of the store that CRL building needs (the store
// satisfies it through the root package).
type Source interface {
	// View opens a consistent read view of scope. The caller closes it.
	View(ctx context.Context, scope Scope) (View, error)
}

// View is a consistent snapshot of one scope's revocation state.
type View interface {
	// Seq is the Seq of the newest change visible in the view (0: none).
	Seq() uint64
	// Entries streams the CRL-entry table of the scope (every revoked or
	// held certificate, expired ones included: they stay on the CRL) in
	// strictly ascending serial order.
	Entries(ctx context.Context) iter.Seq2[Entry, error]
	// Listed streams, in ascending order, the serials the status records
	// hold as revoked or held: an independent read that reconciles Entries.
	Listed(ctx context.Context) iter.Seq2[*big.Int, error]
	// Changes streams the changes with Seq greater than after, by Seq.
	Changes(ctx context.Context, after uint64) iter.Seq2[Change, error]
	// Status returns a certificate's status record; an error wrapping
	// [ErrNotFound] when the scope never issued the serial.
	Status(ctx context.Context, serial *big.Int) (Status, error)
	// Close releases the view.
	Close() error
}

// StatusSource gives the OCSP responder the live status of a certificate.
type StatusSource interface {
	// Status returns a certificate's current status; an error wrapping
	// [ErrNotFound] when the issuer never issued the serial.
	Status(ctx context.Context, serial *big.Int) (Status, error)
}

// CRLInfo describes a published CRL without its bytes.
type CRLInfo struct {
	Number     *big.Int
	BaseNumber *big.Int // delta CRLs only
	ThisUpdate time.Time
	NextUpdate time.Time
	// Seq is the Seq of the newest change the CRL reflects.
	Seq uint64
}

// Head is the last published full and delta CRL of a scope.
type Head struct {
	Full  *CRLInfo // nil before the first publication
	Delta *CRLInfo // nil before the first publication
}

// Seq returns the Seq of the newest change on a published CRL.
func (h Head) Seq() uint64 {
	var s uint64
	if h.Full != nil {
		s = h.Full.Seq
	}
	if h.Delta != nil && h.Delta.Seq > s {
		s = h.Delta.Seq
	}
	return s
}

// LastNumber returns the largest published CRL number (nil: none).
func (h Head) LastNumber() *big.Int {
	var n *big.Int
	for _, c := range []*CRLInfo{h.Full, h.Delta} {
		if c != nil && (n == nil || c.Number.Cmp(n) > 0) {
			n = c.Number
		}
	}
	return n
}

// Publication is what the scheduler records after the sinks accepted one
// or two CRLs: the new head and one receipt per change first carried.
type Publication struct {
	Full     *CRLInfo // nil when only a delta was published
	Delta    *CRLInfo
	Receipts []Receipt
}

// Journal is the durable publication state of each scope (the store
// satisfies it through the root package; crltest.Journal is the fake).
type Journal interface {
	// ReserveNumber durably reserves and returns the next CRL number of
	// scope, greater than any number reserved before (gaps allowed).
	ReserveNumber(ctx context.Context, scope Scope) (*big.Int, error)
	// Head returns the last published CRLs of scope.
	Head(ctx context.Context, scope Scope) (Head, error)
	// Record moves the head and stores the receipts, atomically. It
	// returns an error wrapping [ErrNumber] and changes nothing when a
	// number is not greater than the head's.
	Record(ctx context.Context, scope Scope, p *Publication) error
	// Receipts streams the receipts of scope in the order they were
	// recorded.
	Receipts(ctx context.Context, scope Scope) iter.Seq2[Receipt, error]
}

// Published is a signed CRL handed to the sinks.
type Published struct {
	Scope Scope
	// Delta is true for a delta CRL.
	Delta bool
	CRLInfo
	// Entries is the number of revokedCertificates entries.
	Entries int
	// DER is the CertificateList.
	DER []byte
}

// Publisher is one publication sink (an HTTP cache, a directory, an
// object-storage upload). Publish must not keep p.DER beyond the call
// unless it copies or never modifies it; the scheduler never modifies it.
type Publisher interface {
	Publish(ctx context.Context, p *Published) error
}

// Receipt proves when a status change was first published.
type Receipt struct {
	Scope        Scope
	Seq          uint64
	SerialNumber *big.Int
	Kind         Kind
	Mode         Mode
	RequestedAt  time.Time
	Deadline     time.Time
	PublishedAt  time.Time
	// CRLNumber is the number of the first CRL that carried the change.
	CRLNumber *big.Int
	// Delta is true when that CRL was a delta CRL.
	Delta bool
}

// Lag is the time from request to publication.
func (r Receipt) Lag() time.Duration { return r.PublishedAt.Sub(r.RequestedAt) }

// Late is how long after its deadline the change was published (zero when
// on time).
func (r Receipt) Late() time.Duration {
	if d := r.PublishedAt.Sub(r.Deadline); d > 0 {
		return d
	}
	return 0
}

// Missed reports whether the change was published after its deadline.
func (r Receipt) Missed() bool { return r.PublishedAt.After(r.Deadline) }

func itoa(i int) string { return big.NewInt(int64(i)).String() }

func sortStrings(s []string) { slices.Sort(s) }
