package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// view is a Snapshot over a read transaction.
type view struct {
	txn    *dbTxn
	index  uint64
	closed atomic.Bool
}

var _ Snapshot = (*view)(nil)

func (v *view) Index() uint64 { return v.index }

func (v *view) Close() { v.closed.Store(true) }

func (v *view) check() error {
	if v.closed.Load() {
		return ErrClosed
	}
	return nil
}

// get returns a copy of the record under k, or ErrNotFound.
func get[T any](v *view, table, index string, k key, what, id string) (*T, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	p, err := first[T](v.txn, table, index, k)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, notFound(what, id)
	}
	c := *p
	return &c, nil
}

func (v *view) Organisation(id string) (Organisation, error) {
	p, err := get[Organisation](v, tableOrganisations, indexID, newKey().str(id), "organisation", id)
	return deref(p, err)
}

func (v *view) Unit(id string) (Unit, error) {
	p, err := get[Unit](v, tableUnits, indexID, newKey().str(id), "unit", id)
	return deref(p, err)
}

func (v *view) Operator(id string) (Operator, error) {
	p, err := get[Operator](v, tableOperators, indexID, newKey().str(id), "operator", id)
	return deref(p, err)
}

func (v *view) OperatorByUsername(username string) (Operator, error) {
	p, err := get[Operator](v, tableOperators, indexUsername, newKey().fold(username), "operator", username)
	return deref(p, err)
}

// list returns copies of the records under prefix in index, in key order.
func list[T any](v *view, table, index string, prefix key) ([]T, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	var out []T
	err := scanPrefix(v.txn, table, index, prefix, func(raw any) error {
		out = append(out, *raw.(*T))
		return nil
	})
	return out, err
}

func (v *view) Organisations() ([]Organisation, error) {
	return list[Organisation](v, tableOrganisations, indexID, newKey())
}

func (v *view) Units(orgID string) ([]Unit, error) {
	return list[Unit](v, tableUnits, indexOrg, newKey().str(orgID))
}

func (v *view) Operators(orgID string) ([]Operator, error) {
	return list[Operator](v, tableOperators, indexOrg, newKey().str(orgID))
}

func (v *view) Credentials(operatorID string) (Credentials, error) {
	p, err := get[Credentials](v, tableCredentials, indexID, newKey().str(operatorID), "credentials of operator", operatorID)
	if err != nil {
		return Credentials{}, err
	}
	c := *p
	c.Sealed = bytes.Clone(p.Sealed)
	return c, nil
}

func (v *view) Session(id string) (Session, error) {
	p, err := get[Session](v, tableSessions, indexID, newKey().str(id), "session", "")
	return deref(p, err)
}

func (v *view) OperatorSessions(operatorID string) ([]Session, error) {
	return list[Session](v, tableSessions, indexOperator, newKey().str(operatorID))
}

func (v *view) Steps(orderID string) ([]StepRecord, error) {
	return list[StepRecord](v, tableSteps, indexID, newKey().str(orderID))
}

func (v *view) ExpiredSteps(before time.Time, limit int) ([]StepRecord, error) {
	return timeRange[StepRecord](v, tableSteps, indexExpires, time.Time{}, before, limit,
		func(s *StepRecord) time.Time { return s.ExpiresAt })
}

func (v *view) ExpiredSessions(before time.Time, limit int) ([]Session, error) {
	return timeRange[Session](v, tableSessions, indexExpires, time.Time{}, before, limit,
		func(s *Session) time.Time { return s.ExpiresAt })
}

func (v *view) HoldsEnding(from, to time.Time, limit int) ([]Schedule, error) {
	return timeRange[Schedule](v, tableSchedules, indexHoldUntil, from, to, limit,
		func(s *Schedule) time.Time { return s.HoldUntil })
}

func (v *view) Expiring(from, to time.Time, limit int) ([]Schedule, error) {
	return timeRange[Schedule](v, tableSchedules, indexNotAfter, from, to, limit,
		func(s *Schedule) time.Time { return s.NotAfter })
}

// timeRange returns up to limit records of an index that starts with a
// time, with that time in [from, to], in index order.
func timeRange[T any](v *view, table, index string, from, to time.Time, limit int, at func(*T) time.Time) ([]T, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxSearchLimit {
		return nil, fieldErr("limit", fmt.Sprintf("must be 1-%d", MaxSearchLimit))
	}
	from, to = NormalizeTime(from), NormalizeTime(to)
	start := newKey()
	if !from.IsZero() {
		start = start.time(from)
	}
	it, err := v.txn.LowerBound(table, index, start)
	if err != nil {
		return nil, fmt.Errorf("store: reading %s: %w", table, err)
	}
	var out []T
	for raw := it.Next(); raw != nil && len(out) < limit; raw = it.Next() {
		r := raw.(*T)
		if at(r).After(to) {
			break
		}
		out = append(out, *r)
	}
	return out, nil
}

func (v *view) Holder(id string) (HolderIdentity, error) {
	p, err := get[HolderIdentity](v, tableHolders, indexID, newKey().str(id), "holder", id)
	return deref(p, err)
}

func (v *view) Order(id string) (Order, error) {
	p, err := get[Order](v, tableOrders, indexID, newKey().str(id), "order", id)
	return deref(p, err)
}

func (v *view) Status(orderID string) (StatusRecord, error) {
	p, err := get[StatusRecord](v, tableStatuses, indexID, newKey().str(orderID), "order", orderID)
	return deref(p, err)
}

func (v *view) Product(id string) (Product, error) {
	p, err := get[Product](v, tableProducts, indexID, newKey().str(id), "product", id)
	if err != nil {
		return Product{}, err
	}
	return cloneProduct(p), nil
}

func (v *view) ProductBySerial(issuer string, serial []byte) (Product, error) {
	p, err := get[Product](v, tableProducts, indexSerial, newKey().str(issuer).serial(serial), "serial", fmt.Sprintf("%s/%X", issuer, serial))
	if err != nil {
		return Product{}, err
	}
	return cloneProduct(p), nil
}

func (v *view) StatusChange(id string) (StatusChange, error) {
	p, err := get[StatusChange](v, tableChanges, indexID, newKey().str(id), "status change", id)
	return deref(p, err)
}

func (v *view) StatusChanges(orderID string) ([]StatusChange, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	var out []StatusChange
	err := scanPrefix(v.txn, tableChanges, indexOrder, newKey().str(orderID), func(raw any) error {
		out = append(out, *raw.(*StatusChange))
		return nil
	})
	return out, err
}

func (v *view) DueStatusChanges(before time.Time, limit int) ([]StatusChange, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxSearchLimit {
		return nil, fieldErr("limit", fmt.Sprintf("must be 1-%d", MaxSearchLimit))
	}
	before = NormalizeTime(before)
	it, err := v.txn.Get(tableChanges, indexPending, newKey())
	if err != nil {
		return nil, err
	}
	var out []StatusChange
	for raw := it.Next(); raw != nil && len(out) < limit; raw = it.Next() {
		c := raw.(*StatusChange)
		if c.Deadline.After(before) {
			break
		}
		out = append(out, *c)
	}
	return out, nil
}

func (v *view) Intent(id string) (IntentRecord, error) {
	p, err := get[IntentRecord](v, tableIntents, indexID, newKey().str(id), "intent", id)
	if err != nil {
		return IntentRecord{}, err
	}
	c := *p
	c.Serial = bytes.Clone(p.Serial)
	return c, nil
}

func (v *view) OpenIntents(fn func(IntentRecord) error) error {
	if err := v.check(); err != nil {
		return err
	}
	return scanPrefix(v.txn, tableIntents, indexOpen, newKey(), func(raw any) error {
		c := *raw.(*IntentRecord)
		c.Serial = bytes.Clone(c.Serial)
		return fn(c)
	})
}

func (v *view) CRL(scope CRLScope) (CRLRecord, error) {
	p, err := get[CRLRecord](v, tableCRLs, indexID, newKey().str(scope.Issuer).u32(scope.Shard), "CRL scope", fmt.Sprintf("%s/%d", scope.Issuer, scope.Shard))
	return deref(p, err)
}

func (v *view) CRLEntries(scope CRLScope, cutoff time.Time, fn func(CRLEntry) error) error {
	if err := v.check(); err != nil {
		return err
	}
	cutoff = NormalizeTime(cutoff)
	return scanPrefix(v.txn, tableCRLEntries, indexID, newKey().str(scope.Issuer).u32(scope.Shard), func(raw any) error {
		e := *raw.(*CRLEntry)
		if e.RevocationTime.After(cutoff) {
			return nil
		}
		e.Serial = bytes.Clone(e.Serial)
		return fn(e)
	})
}

func (v *view) Receipt(id string) (Receipt, error) {
	p, err := get[Receipt](v, tableReceipts, indexID, newKey().str(id), "receipt", id)
	return deref(p, err)
}

func (v *view) Evidence(id string) (EvidenceRef, error) {
	p, err := get[EvidenceRef](v, tableEvidence, indexID, newKey().str(id), "evidence", id)
	if err != nil {
		return EvidenceRef{}, err
	}
	c := *p
	c.Blobs = slices.Clone(p.Blobs)
	return c, nil
}

func (v *view) Envelope(id string) (EnvelopeRef, error) {
	p, err := get[EnvelopeRef](v, tableEnvelopes, indexID, newKey().str(id), "envelope", id)
	return deref(p, err)
}

func (v *view) OrderEvidence(orderID string) ([]EvidenceRef, error) {
	out, err := list[EvidenceRef](v, tableEvidence, indexOrder, newKey().str(orderID))
	for i := range out {
		out[i].Blobs = slices.Clone(out[i].Blobs)
	}
	return out, err
}

func (v *view) OrderEnvelopes(orderID string) ([]EnvelopeRef, error) {
	return list[EnvelopeRef](v, tableEnvelopes, indexOrder, newKey().str(orderID))
}

func (v *view) Lease(name string) (Lease, error) {
	p, err := get[Lease](v, tableLeases, indexID, newKey().str(name), "lease", name)
	return deref(p, err)
}

func (v *view) Search(q SearchQuery) (*SearchPage, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	return search(v.txn, q)
}

func (v *view) AuditEvents(from uint64, fn func(AuditEvent) error) error {
	if err := v.check(); err != nil {
		return err
	}
	it, err := v.txn.LowerBound(tableAudit, indexID, newKey().u64(from))
	if err != nil {
		return err
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		e := *raw.(*AuditEvent)
		e.Hash = bytes.Clone(e.Hash)
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (v *view) VerifyAudit() error {
	if err := v.check(); err != nil {
		return err
	}
	// Stream the events through the verifier, remembering only the count
	// and the hash of the last sealed one.
	var count, sealed uint64
	var head []byte
	var iterErr error
	events := func(yield func(AuditEvent) bool) {
		iterErr = v.AuditEvents(0, func(e AuditEvent) error {
			count++
			if len(e.Hash) > 0 {
				sealed, head = e.Seq, e.Hash
			}
			if !yield(e) {
				return errStopIteration
			}
			return nil
		})
	}
	chainErr := VerifyAuditChain(events)
	if iterErr != nil && iterErr != errStopIteration {
		return iterErr
	}
	// A break recorded while sealing: an event replayed from the log that
	// differs from the one the seal was computed over.
	brk, err := first[metaRecord](v.txn, tableMeta, indexID, newKey().str(metaAuditBreak))
	if err != nil {
		return err
	}
	if ce, ok := errors.AsType[*AuditChainError](chainErr); brk != nil && (chainErr == nil || ok && ce.Seq > brk.Value) {
		return &AuditChainError{Seq: brk.Value, Reason: "differs from the event sealed in the log"}
	}
	if chainErr != nil {
		return chainErr
	}
	m, err := first[metaRecord](v.txn, tableMeta, indexID, newKey().str(metaAudit))
	if err != nil {
		return err
	}
	if m == nil {
		m = &metaRecord{}
	}
	// The head record catches what the chain alone cannot: events deleted
	// from the end, or a chain cut short.
	if count != m.Value {
		return &AuditChainError{Seq: count + 1, Reason: fmt.Sprintf("store recorded %d events", m.Value)}
	}
	if sealed != m.Aux || !bytes.Equal(head, m.Hash) {
		return &AuditChainError{Seq: min(sealed, m.Aux) + 1, Reason: "chain head differs from the recorded head"}
	}
	return nil
}

// errStopIteration ends an iteration early without being an error.
var errStopIteration = errors.New("store: stop iteration")

func deref[T any](p *T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	return *p, nil
}

func cloneOrder(o *Order) Order { return *o }

func cloneProduct(p *Product) Product {
	c := *p
	c.Certificates = slices.Clone(p.Certificates)
	for i := range c.Certificates {
		c.Certificates[i].Serial = bytes.Clone(c.Certificates[i].Serial)
	}
	return c
}
