package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// state is the in-memory state: tables with every index (db.go). Writes
// come only from the FSM (one at a time); reads use read transactions,
// which are consistent and lock-free.
type state struct {
	db *db
}

func newState() (*state, error) {
	return &state{db: newDB(schema())}, nil
}

// applyEntry applies one decoded log entry committed at index. It either
// commits every command or changes nothing and returns the error.
func (s *state) applyEntry(index uint64, en *entry) (*Result, error) {
	txn := s.db.Txn(true)
	defer txn.Abort()

	var hash []byte
	if en.IdempotencyKey != "" {
		hash = contentHash(en.Fence, en.Commands)
		prev, err := first[idempotencyRecord](txn, tableIdempotency, indexID, newKey().str(en.Org).str(en.IdempotencyKey))
		if err != nil {
			return nil, err
		}
		if prev != nil {
			if !bytes.Equal(prev.Hash, hash) {
				return nil, fmt.Errorf("%w: key %q", ErrIdempotencyMismatch, en.IdempotencyKey)
			}
			r := prev.Result
			r.Outputs = append([]Output(nil), r.Outputs...)
			r.Replayed = true
			return &r, nil
		}
	}
	// Entries are validated before they are proposed; validating again here
	// keeps every node's answer the same even for an entry written by a
	// node with other rules.
	cmds, err := validateBatch(&Batch{Org: en.Org, IdempotencyKey: en.IdempotencyKey, Fence: en.Fence, Commands: en.Commands})
	if err != nil {
		return nil, err
	}
	w := &writer{txn: txn, index: index, at: en.At}
	if en.Fence != nil {
		if err := w.checkFence(*en.Fence); err != nil {
			return nil, err
		}
	}
	res := &Result{Index: index, Outputs: make([]Output, len(cmds))}
	for i, c := range cmds {
		w.cmd = i
		out, err := w.apply(c)
		if err != nil {
			return nil, err
		}
		res.Outputs[i] = out
	}
	if en.IdempotencyKey != "" {
		if err := pruneIdempotency(txn, en.At.Add(-IdempotencyWindow)); err != nil {
			return nil, err
		}
		rec := &idempotencyRecord{Org: en.Org, Key: en.IdempotencyKey, Hash: hash, Result: *res, CreatedAt: index, At: en.At}
		rec.Result.Outputs = append([]Output(nil), res.Outputs...)
		if err := txn.Insert(tableIdempotency, rec); err != nil {
			return nil, err
		}
	}
	txn.Commit()
	return res, nil
}

// pruneIdempotency drops up to idempotencyPrune keys stored before cutoff.
func pruneIdempotency(txn *dbTxn, cutoff time.Time) error {
	it, err := txn.LowerBound(tableIdempotency, indexAt, newKey())
	if err != nil {
		return err
	}
	var old []any
	for raw := it.Next(); raw != nil && len(old) < idempotencyPrune; raw = it.Next() {
		if !raw.(*idempotencyRecord).At.Before(cutoff) {
			break
		}
		old = append(old, raw)
	}
	for _, o := range old {
		if err := txn.Delete(tableIdempotency, o); err != nil {
			return err
		}
	}
	return nil
}

// first returns the record under k in index, or nil.
func first[T any](txn *dbTxn, table, index string, k key) (*T, error) {
	raw, err := txn.First(table, index, k)
	if err != nil {
		return nil, fmt.Errorf("store: reading %s: %w", table, err)
	}
	if raw == nil {
		return nil, nil
	}
	return raw.(*T), nil
}

// writer applies the commands of one entry inside one write transaction.
type writer struct {
	txn   *dbTxn
	index uint64
	at    time.Time
	cmd   int
}

func (w *writer) conflict(format string, args ...any) error { return conflict(w.cmd, format, args...) }

// insert writes obj, replacing the record with the same primary key: the
// tables drop every index entry of the old record, the optional ones obj no
// longer has included.
func (w *writer) insert(table string, obj any) error {
	if err := w.txn.Insert(table, obj); err != nil {
		return fmt.Errorf("store: writing %s: %w", table, err)
	}
	return nil
}

// expect checks ExpectVersion against the current version (0: absent).
func (w *writer) expect(what, id string, current, expect uint64) error {
	switch {
	case expect == 0 && current != 0:
		return w.conflict("%s %q already exists", what, id)
	case expect != 0 && current == 0:
		return w.conflict("%s %q does not exist", what, id)
	case expect != current:
		return w.conflict("%s %q: version %d, expected %d", what, id, current, expect)
	}
	return nil
}

// unique checks that no record other than selfID holds k in a unique index.
func (w *writer) unique(table, index string, k key, selfID string, idOf func(any) string, what string) error {
	raw, err := w.txn.First(table, index, k)
	if err != nil {
		return fmt.Errorf("store: reading %s: %w", table, err)
	}
	if raw != nil && idOf(raw) != selfID {
		return w.conflict("%s is already used", what)
	}
	return nil
}

func version[T any](p *T, v func(*T) uint64) uint64 {
	if p == nil {
		return 0
	}
	return v(p)
}

func (w *writer) apply(c Command) (Output, error) {
	switch c := c.(type) {
	case PutOrganisation:
		return Output{}, w.putOrganisation(c)
	case PutUnit:
		return Output{}, w.putUnit(c)
	case PutOperator:
		return Output{}, w.putOperator(c)
	case PutHolder:
		return Output{}, w.putHolder(c)
	case PutCredentials:
		return Output{}, w.putCredentials(c)
	case PutSession:
		return Output{}, w.putSession(c)
	case DeleteSession:
		return Output{}, w.deleteSession(c)
	case PutStep:
		return Output{}, w.putStep(c)
	case DeleteSteps:
		return Output{}, w.deleteSteps(c)
	case PutBlobs:
		// The blobs are no part of the state: the node writes them to its
		// blob store once the batch has applied (fsm.Apply).
		return Output{}, nil
	case PutOrder:
		return Output{}, w.putOrder(c)
	case ChangeStatus:
		return Output{}, w.changeStatus(c)
	case PrepareIntent:
		return Output{}, w.prepareIntent(c)
	case CompleteIntent:
		return Output{}, w.completeIntent(c)
	case AbandonIntent:
		return Output{}, w.abandonIntent(c)
	case ReserveCRLNumber:
		return w.reserveCRLNumber(c)
	case PublishCRL:
		return Output{}, w.publishCRL(c)
	case PutReceipt:
		return Output{}, w.putReceipt(c)
	case AppendAudit:
		return w.appendAudit(c)
	case SealAudit:
		return w.sealAudit(c)
	case PutEvidence:
		return Output{}, w.putEvidence(c)
	case PutEnvelope:
		return Output{}, w.putEnvelope(c)
	case AcquireLease:
		return w.acquireLease(c)
	case RenewLease:
		return w.renewLease(c)
	case ReleaseLease:
		return Output{}, w.releaseLease(c)
	}
	return Output{}, fieldErr(fmt.Sprintf("commands[%d]", w.cmd), fmt.Sprintf("unknown command %T", c))
}

func (w *writer) putOrganisation(c PutOrganisation) error {
	o := c.Organisation
	cur, err := first[Organisation](w.txn, tableOrganisations, indexID, newKey().str(o.ID))
	if err != nil {
		return err
	}
	if err := w.expect("organisation", o.ID, version(cur, func(r *Organisation) uint64 { return r.Version }), c.ExpectVersion); err != nil {
		return err
	}
	if cur != nil {
		o.CreatedAt = cur.CreatedAt
	} else if o.CreatedAt.IsZero() {
		o.CreatedAt = w.at
	}
	o.Version = w.index
	return w.insert(tableOrganisations, &o)
}

func (w *writer) org(id string) error {
	o, err := first[Organisation](w.txn, tableOrganisations, indexID, newKey().str(id))
	if err != nil {
		return err
	}
	if o == nil {
		return w.conflict("organisation %q does not exist", id)
	}
	return nil
}

func (w *writer) putUnit(c PutUnit) error {
	u := c.Unit
	cur, err := first[Unit](w.txn, tableUnits, indexID, newKey().str(u.ID))
	if err != nil {
		return err
	}
	if err := w.expect("unit", u.ID, version(cur, func(r *Unit) uint64 { return r.Version }), c.ExpectVersion); err != nil {
		return err
	}
	if cur != nil && cur.OrgID != u.OrgID {
		return w.conflict("unit %q: organisation cannot change", u.ID)
	}
	if err := w.org(u.OrgID); err != nil {
		return err
	}
	if u.ParentID != "" {
		if u.ParentID == u.ID {
			return w.conflict("unit %q cannot be its own parent", u.ID)
		}
		parent, err := first[Unit](w.txn, tableUnits, indexID, newKey().str(u.ParentID))
		if err != nil {
			return err
		}
		if parent == nil || parent.OrgID != u.OrgID || parent.ParentID != "" {
			return w.conflict("unit %q: parent %q is not a main unit of organisation %q", u.ID, u.ParentID, u.OrgID)
		}
		var child *Unit
		err = scanPrefix(w.txn, tableUnits, indexOrg, newKey().str(u.OrgID), func(raw any) error {
			if x := raw.(*Unit); x.ParentID == u.ID {
				child = x
				return errStopIteration
			}
			return nil
		})
		if err != nil && err != errStopIteration {
			return err
		}
		if child != nil {
			return w.conflict("unit %q has secondary units: it cannot become one", u.ID)
		}
	}
	u.Version = w.index
	return w.insert(tableUnits, &u)
}

func (w *writer) putCredentials(c PutCredentials) error {
	cr := c.Credentials
	cur, err := first[Credentials](w.txn, tableCredentials, indexID, newKey().str(cr.OperatorID))
	if err != nil {
		return err
	}
	if err := w.expect("credentials of operator", cr.OperatorID, version(cur, func(r *Credentials) uint64 { return r.Version }), c.ExpectVersion); err != nil {
		return err
	}
	if err := w.operatorIn(cr.OperatorID, cr.OrgID); err != nil {
		return err
	}
	cr.UpdatedAt = w.at
	cr.Version = w.index
	return w.insert(tableCredentials, &cr)
}

// operatorIn checks that an operator exists in an organisation.
func (w *writer) operatorIn(id, org string) error {
	op, err := first[Operator](w.txn, tableOperators, indexID, newKey().str(id))
	if err != nil {
		return err
	}
	if op == nil || op.OrgID != org {
		return w.conflict("operator %q does not exist in organisation %q", id, org)
	}
	return nil
}

func (w *writer) putSession(c PutSession) error {
	s := c.Session
	cur, err := first[Session](w.txn, tableSessions, indexID, newKey().str(s.ID))
	if err != nil {
		return err
	}
	if err := w.expect("session", "", version(cur, func(r *Session) uint64 { return r.Version }), c.ExpectVersion); err != nil {
		return err
	}
	if cur != nil && (cur.OperatorID != s.OperatorID || cur.OrgID != s.OrgID || !cur.CreatedAt.Equal(s.CreatedAt)) {
		return w.conflict("session: operator, organisation and creation time cannot change")
	}
	if err := w.operatorIn(s.OperatorID, s.OrgID); err != nil {
		return err
	}
	s.Version = w.index
	if cur == nil {
		return w.insert(tableSessions, &s)
	}
	return w.insert(tableSessions, &s)
}

func (w *writer) deleteSession(c DeleteSession) error {
	cur, err := first[Session](w.txn, tableSessions, indexID, newKey().str(c.ID))
	if err != nil || cur == nil {
		return err
	}
	if err := w.txn.Delete(tableSessions, cur); err != nil {
		return fmt.Errorf("store: deleting session: %w", err)
	}
	return nil
}

func (w *writer) putStep(c PutStep) error {
	s := c.Step
	if _, err := w.order(s.OrderID, s.OrgID); err != nil {
		return err
	}
	if s.OperatorID != "" {
		if err := w.operatorIn(s.OperatorID, s.OrgID); err != nil {
			return err
		}
	}
	return w.insert(tableSteps, &s)
}

func (w *writer) deleteSteps(c DeleteSteps) error {
	prefix := newKey().str(c.OrderID)
	if c.Kind != "" {
		prefix = prefix.str(c.Kind)
	}
	it, err := w.txn.Get(tableSteps, indexID, prefix)
	if err != nil {
		return err
	}
	var steps []any
	for raw := it.Next(); raw != nil; raw = it.Next() {
		steps = append(steps, raw)
	}
	for _, s := range steps {
		if err := w.txn.Delete(tableSteps, s); err != nil {
			return fmt.Errorf("store: deleting step: %w", err)
		}
	}
	return nil
}

func (w *writer) putOperator(c PutOperator) error {
	o := c.Operator
	cur, err := first[Operator](w.txn, tableOperators, indexID, newKey().str(o.ID))
	if err != nil {
		return err
	}
	if err := w.expect("operator", o.ID, version(cur, func(r *Operator) uint64 { return r.Version }), c.ExpectVersion); err != nil {
		return err
	}
	if cur != nil && cur.OrgID != o.OrgID {
		return w.conflict("operator %q: organisation cannot change", o.ID)
	}
	if err := w.org(o.OrgID); err != nil {
		return err
	}
	if o.UnitID != "" {
		u, err := first[Unit](w.txn, tableUnits, indexID, newKey().str(o.UnitID))
		if err != nil {
			return err
		}
		if u == nil || u.OrgID != o.OrgID {
			return w.conflict("unit %q does not exist in organisation %q", o.UnitID, o.OrgID)
		}
	}
	if err := w.unique(tableOperators, indexUsername, newKey().fold(o.Username), o.ID,
		func(r any) string { return r.(*Operator).ID }, "operator username"); err != nil {
		return err
	}
	if cur != nil {
		o.CreatedAt = cur.CreatedAt
	} else if o.CreatedAt.IsZero() {
		o.CreatedAt = w.at
	}
	o.Version = w.index
	return w.insert(tableOperators, &o)
}

func (w *writer) putHolder(c PutHolder) error {
	h := c.Holder
	cur, err := first[HolderIdentity](w.txn, tableHolders, indexID, newKey().str(h.ID))
	if err != nil {
		return err
	}
	if err := w.expect("holder", h.ID, version(cur, func(r *HolderIdentity) uint64 { return r.Version }), c.ExpectVersion); err != nil {
		return err
	}
	idOf := func(r any) string { return r.(*HolderIdentity).ID }
	for _, u := range []struct{ index, value, what string }{
		{indexUserID, h.UserID, "holder user ID"},
		{indexEmail, h.Email, "holder e-mail"},
		{indexMobile, h.Mobile, "holder mobile"},
		{indexIUT, h.IUT, "holder IUT"},
	} {
		if u.value == "" {
			continue
		}
		if err := w.unique(tableHolders, u.index, newKey().fold(u.value), h.ID, idOf, u.what); err != nil {
			return err
		}
	}
	if cur != nil {
		h.CreatedAt = cur.CreatedAt
	} else if h.CreatedAt.IsZero() {
		h.CreatedAt = w.at
	}
	h.Version = w.index
	if cur != nil {
		return w.insert(tableHolders, &h)
	}
	return w.insert(tableHolders, &h)
}

func (w *writer) putOrder(c PutOrder) error {
	o := c.Order
	cur, err := first[Order](w.txn, tableOrders, indexID, newKey().str(o.ID))
	if err != nil {
		return err
	}
	if err := w.expect("order", o.ID, version(cur, func(r *Order) uint64 { return r.Version }), c.ExpectVersion); err != nil {
		return err
	}
	if cur != nil && (cur.OrgID != o.OrgID || !cur.CreatedAt.Equal(o.CreatedAt)) {
		return w.conflict("order %q: organisation and input date cannot change", o.ID)
	}
	if err := w.org(o.OrgID); err != nil {
		return err
	}
	op, err := first[Operator](w.txn, tableOperators, indexID, newKey().str(o.OperatorID))
	if err != nil {
		return err
	}
	if op == nil || op.OrgID != o.OrgID {
		return w.conflict("operator %q does not exist in organisation %q", o.OperatorID, o.OrgID)
	}
	if o.UnitID != "" {
		u, err := first[Unit](w.txn, tableUnits, indexID, newKey().str(o.UnitID))
		if err != nil {
			return err
		}
		if u == nil || u.OrgID != o.OrgID {
			return w.conflict("unit %q does not exist in organisation %q", o.UnitID, o.OrgID)
		}
	}
	h, err := first[HolderIdentity](w.txn, tableHolders, indexID, newKey().str(o.HolderID))
	if err != nil {
		return err
	}
	if h == nil {
		return w.conflict("holder %q does not exist", o.HolderID)
	}
	if o.ExternalCode != "" {
		if err := w.unique(tableOrders, indexOrgExternal, newKey().str(o.OrgID).fold(o.ExternalCode), o.ID,
			func(r any) string { return r.(*Order).ID }, "external lookup code"); err != nil {
			return err
		}
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = w.at
	}
	o.Version = w.index
	if cur != nil {
		return w.insert(tableOrders, &o)
	}
	if err := w.insert(tableOrders, &o); err != nil {
		return err
	}
	st := &StatusRecord{OrderID: o.ID, OrgID: o.OrgID, Status: c.InitialStatus, InputDate: o.CreatedAt,
		UpdatedAt: w.at, Version: w.index}
	return w.insert(tableStatuses, st)
}

func (w *writer) changeStatus(c ChangeStatus) error {
	ch := c.Change
	cur, err := first[StatusRecord](w.txn, tableStatuses, indexID, newKey().str(ch.OrderID))
	if err != nil {
		return err
	}
	if cur == nil {
		return w.conflict("order %q does not exist", ch.OrderID)
	}
	if cur.Status != ch.From {
		return w.conflict("order %q: status is %s, expected %s", ch.OrderID, cur.Status, ch.From)
	}
	if c.ExpectVersion != 0 && cur.Version != c.ExpectVersion {
		return w.conflict("order %q: status version %d, expected %d", ch.OrderID, cur.Version, c.ExpectVersion)
	}
	dup, err := first[StatusChange](w.txn, tableChanges, indexID, newKey().str(ch.ID))
	if err != nil {
		return err
	}
	if dup != nil {
		return w.conflict("status change %q already exists", ch.ID)
	}
	next := *cur
	next.Status = ch.To
	if !c.ActivatedAt.IsZero() {
		next.ActivatedAt = c.ActivatedAt
	}
	next.UpdatedAt = ch.At
	next.Version = w.index
	if err := w.insert(tableStatuses, &next); err != nil {
		return err
	}
	ch.OrgID = cur.OrgID
	ch.Version = w.index
	if err := w.insert(tableChanges, &ch); err != nil {
		return err
	}
	if err := w.syncCRLEntries(&next, &ch); err != nil {
		return err
	}
	var hold time.Time
	if next.Status == StatusSuspended {
		hold = ch.HoldUntil
	}
	return w.syncSchedule(&next, hold)
}

// syncSchedule keeps an order's [Schedule] in step with its status record:
// present while the order is suspended with an end date (hold) or active or
// suspended with a product (its earliest notAfter), absent otherwise.
func (w *writer) syncSchedule(st *StatusRecord, hold time.Time) error {
	cur, err := first[Schedule](w.txn, tableSchedules, indexID, newKey().str(st.OrderID))
	if err != nil {
		return err
	}
	next, err := scheduleOf(w.txn, st, hold)
	if err != nil {
		return err
	}
	if next == nil {
		if cur != nil {
			if err := w.txn.Delete(tableSchedules, cur); err != nil {
				return fmt.Errorf("store: deleting schedule: %w", err)
			}
		}
		return nil
	}
	next.Version = w.index
	if cur == nil {
		return w.insert(tableSchedules, next)
	}
	return w.insert(tableSchedules, next)
}

// scheduleOf returns the schedule an order in st should have (hold is the
// end of its current suspension), or nil.
func scheduleOf(txn *dbTxn, st *StatusRecord, hold time.Time) (*Schedule, error) {
	sc := &Schedule{OrderID: st.OrderID, OrgID: st.OrgID, Status: st.Status}
	if st.Status == StatusSuspended {
		sc.HoldUntil = hold
	}
	if (st.Status == StatusActive || st.Status == StatusSuspended) && st.ProductID != "" {
		p, err := first[Product](txn, tableProducts, indexID, newKey().str(st.ProductID))
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, fmt.Errorf("%w: order %q names a missing product %q", ErrCorrupt, st.OrderID, st.ProductID)
		}
		for _, c := range p.Certificates {
			if sc.NotAfter.IsZero() || c.NotAfter.Before(sc.NotAfter) {
				sc.NotAfter = c.NotAfter
			}
		}
	}
	if sc.HoldUntil.IsZero() && sc.NotAfter.IsZero() {
		return nil, nil
	}
	return sc, nil
}

// holdOf returns the end of the current suspension of a suspended order:
// the HoldUntil of its latest change to suspended.
func holdOf(txn *dbTxn, orderID string) (time.Time, error) {
	it, err := txn.GetReverse(tableChanges, indexOrder, newKey().str(orderID))
	if err != nil {
		return time.Time{}, fmt.Errorf("store: reading %s: %w", tableChanges, err)
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if c := raw.(*StatusChange); c.To == StatusSuspended {
			return c.HoldUntil, nil
		}
	}
	return time.Time{}, nil
}

// syncCRLEntries keeps the invariant of STORE.md: a product has CRL entries
// (one per certificate, in its scope) exactly while it is suspended or
// revoked.
func (w *writer) syncCRLEntries(st *StatusRecord, ch *StatusChange) error {
	if st.ProductID == "" {
		return nil
	}
	p, err := first[Product](w.txn, tableProducts, indexID, newKey().str(st.ProductID))
	if err != nil {
		return err
	}
	if p == nil {
		return w.conflict("product %q does not exist", st.ProductID)
	}
	for _, cert := range p.Certificates {
		k := newKey().str(cert.Issuer).u32(cert.Shard).serial(cert.Serial)
		cur, err := first[CRLEntry](w.txn, tableCRLEntries, indexID, k)
		if err != nil {
			return err
		}
		if !st.Status.listed() {
			if cur != nil {
				if err := w.txn.Delete(tableCRLEntries, cur); err != nil {
					return fmt.Errorf("store: deleting CRL entry: %w", err)
				}
			}
			continue
		}
		if ch == nil {
			continue
		}
		e := &CRLEntry{Issuer: cert.Issuer, Shard: cert.Shard, Serial: cert.Serial, ReasonCode: ch.ReasonCode,
			RevocationTime: ch.RevocationTime, InvalidityDate: ch.InvalidityDate, OrderID: st.OrderID,
			ProductID: p.ID, Version: w.index}
		if st.Status == StatusSuspended {
			e.ReasonCode = 6 // certificateHold, RFC 5280 §5.3.1
		} else if e.ReasonCode < 0 {
			e.ReasonCode = 0 // unspecified
		}
		if e.RevocationTime.IsZero() {
			e.RevocationTime = ch.At
		}
		if err := w.insert(tableCRLEntries, e); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) order(id, org string) (*Order, error) {
	o, err := first[Order](w.txn, tableOrders, indexID, newKey().str(id))
	if err != nil {
		return nil, err
	}
	if o == nil || o.OrgID != org {
		return nil, w.conflict("order %q does not exist in organisation %q", id, org)
	}
	return o, nil
}

func (w *writer) prepareIntent(c PrepareIntent) error {
	in := c.Intent
	if _, err := w.order(in.OrderID, in.OrgID); err != nil {
		return err
	}
	dup, err := first[IntentRecord](w.txn, tableIntents, indexID, newKey().str(in.ID))
	if err != nil {
		return err
	}
	if dup != nil {
		return w.conflict("intent %q already exists", in.ID)
	}
	sk := newKey().str(in.Issuer).serial(in.Serial)
	if other, err := first[IntentRecord](w.txn, tableIntents, indexSerial, sk); err != nil {
		return err
	} else if other != nil {
		return w.conflict("serial %X of issuer %q is already used", in.Serial, in.Issuer)
	}
	if other, err := first[Product](w.txn, tableProducts, indexSerial, sk); err != nil {
		return err
	} else if other != nil {
		return w.conflict("serial %X of issuer %q is already used", in.Serial, in.Issuer)
	}
	in.State = IntentOpen
	in.UpdatedAt = w.at
	in.Version = w.index
	return w.insert(tableIntents, &in)
}

func (w *writer) completeIntent(c CompleteIntent) error {
	p := c.Product
	dup, err := first[Product](w.txn, tableProducts, indexID, newKey().str(p.ID))
	if err != nil {
		return err
	}
	if dup != nil {
		return w.conflict("product %q already exists", p.ID)
	}
	o, err := w.order(p.OrderID, p.OrgID)
	if err != nil {
		return err
	}
	if o.HolderID != p.HolderID {
		return w.conflict("product %q: holder %q is not the order's", p.ID, p.HolderID)
	}
	st, err := first[StatusRecord](w.txn, tableStatuses, indexID, newKey().str(p.OrderID))
	if err != nil {
		return err
	}
	if st == nil {
		return fmt.Errorf("%w: order %q has no status record", ErrCorrupt, p.OrderID)
	}
	if st.ProductID != "" {
		return w.conflict("order %q already has product %q", p.OrderID, st.ProductID)
	}
	if st.Status.listed() {
		return w.conflict("order %q is %s: a product cannot be completed now", p.OrderID, st.Status)
	}
	seen := map[string]bool{}
	for i, cert := range p.Certificates {
		sk := newKey().str(cert.Issuer).serial(cert.Serial)
		if seen[string(sk)] {
			return w.conflict("product %q: certificate %d repeats a serial", p.ID, i)
		}
		seen[string(sk)] = true
		in, err := first[IntentRecord](w.txn, tableIntents, indexSerial, sk)
		if err != nil {
			return err
		}
		if in == nil || in.State != IntentOpen || in.OrderID != p.OrderID || in.Shard != cert.Shard {
			return w.conflict("product %q: certificate %d has no open intent for its order, issuer, shard and serial", p.ID, i)
		}
		done := *in
		done.State = IntentCompleted
		done.ProductID = p.ID
		done.UpdatedAt = w.at
		done.Version = w.index
		if err := w.insert(tableIntents, &done); err != nil {
			return err
		}
	}
	p.Version = w.index
	if err := w.insert(tableProducts, &p); err != nil {
		return err
	}
	next := *st
	next.ProductID = p.ID
	next.Version = w.index
	if err := w.insert(tableStatuses, &next); err != nil {
		return err
	}
	return w.syncSchedule(&next, time.Time{})
}

func (w *writer) abandonIntent(c AbandonIntent) error {
	in, err := first[IntentRecord](w.txn, tableIntents, indexID, newKey().str(c.IntentID))
	if err != nil {
		return err
	}
	if in == nil || in.State != IntentOpen {
		return w.conflict("intent %q is not open", c.IntentID)
	}
	next := *in
	next.State = IntentAbandoned
	next.Reason = c.Reason
	next.UpdatedAt = w.at
	next.Version = w.index
	return w.insert(tableIntents, &next)
}

func (w *writer) crl(s CRLScope) (*CRLRecord, error) {
	return first[CRLRecord](w.txn, tableCRLs, indexID, newKey().str(s.Issuer).u32(s.Shard))
}

func (w *writer) reserveCRLNumber(c ReserveCRLNumber) (Output, error) {
	cur, err := w.crl(c.Scope)
	if err != nil {
		return Output{}, err
	}
	next := CRLRecord{Issuer: c.Scope.Issuer, Shard: c.Scope.Shard}
	if cur != nil {
		next = *cur
	}
	next.Reserved++
	next.Version = w.index
	if err := w.insert(tableCRLs, &next); err != nil {
		return Output{}, err
	}
	return Output{Number: next.Reserved}, nil
}

func (w *writer) publishCRL(c PublishCRL) error {
	cur, err := w.crl(c.Scope)
	if err != nil {
		return err
	}
	if cur == nil || c.Number > cur.Reserved {
		return w.conflict("CRL number %d of %s/%d was not reserved", c.Number, c.Scope.Issuer, c.Scope.Shard)
	}
	if c.Number <= cur.Number {
		return w.conflict("CRL number %d of %s/%d is not larger than the served %d", c.Number, c.Scope.Issuer, c.Scope.Shard, cur.Number)
	}
	next := *cur
	next.Number = c.Number
	next.ThisUpdate = c.ThisUpdate
	next.NextUpdate = c.NextUpdate
	next.CRLBlob = c.CRLBlob
	next.PublishedAt = w.at
	next.Version = w.index
	if err := w.insert(tableCRLs, &next); err != nil {
		return err
	}
	for _, id := range c.Changes {
		ch, err := first[StatusChange](w.txn, tableChanges, indexID, newKey().str(id))
		if err != nil {
			return err
		}
		if ch == nil {
			return w.conflict("status change %q does not exist", id)
		}
		if !ch.PublishedAt.IsZero() {
			continue // published earlier: the first receipt stands
		}
		done := *ch
		done.PublishedAt = w.at
		done.CRLNumber = c.Number
		done.Version = w.index
		if err := w.insert(tableChanges, &done); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) putReceipt(c PutReceipt) error {
	r := c.Receipt
	dup, err := first[Receipt](w.txn, tableReceipts, indexID, newKey().str(r.ID))
	if err != nil {
		return err
	}
	if dup != nil {
		return w.conflict("receipt %q already exists", r.ID)
	}
	cur, err := w.crl(CRLScope{Issuer: r.Issuer, Shard: r.Shard})
	if err != nil {
		return err
	}
	if cur == nil || r.CRLNumber > cur.Reserved {
		return w.conflict("receipt %q: CRL number %d was not reserved", r.ID, r.CRLNumber)
	}
	r.Version = w.index
	return w.insert(tableReceipts, &r)
}

func (w *writer) auditMeta() (*metaRecord, error) {
	m, err := first[metaRecord](w.txn, tableMeta, indexID, newKey().str(metaAudit))
	if err != nil {
		return nil, err
	}
	if m == nil {
		return &metaRecord{Name: metaAudit}, nil
	}
	return m, nil
}

func (w *writer) appendAudit(c AppendAudit) (Output, error) {
	m, err := w.auditMeta()
	if err != nil {
		return Output{}, err
	}
	next := *m
	next.Value++
	ev := c.Event
	ev.Seq = next.Value
	ev.Version = w.index
	if err := w.insert(tableAudit, &ev); err != nil {
		return Output{}, err
	}
	if err := w.insert(tableMeta, &next); err != nil {
		return Output{}, err
	}
	return Output{Number: ev.Seq}, nil
}

func (w *writer) sealAudit(c SealAudit) (Output, error) {
	m, err := w.auditMeta()
	if err != nil {
		return Output{}, err
	}
	if c.From == 0 {
		return w.sealAuditV1(m, c.Max)
	}
	if c.From != m.Aux+1 {
		return Output{}, w.conflict("the seal starts at audit event %d, the first unsealed is %d", c.From, m.Aux+1)
	}
	if last := m.Aux + uint64(len(c.Hashes)); last > m.Value {
		return Output{}, w.conflict("the seal ends at audit event %d, the last appended is %d", last, m.Value)
	}
	next := *m
	for _, want := range c.Hashes {
		ev, err := w.nextUnsealed(&next)
		if err != nil {
			return Output{}, err
		}
		// The proposer computed want from the same committed event, so a
		// difference means the event was changed in the log since: the
		// replay cannot be refused, so the break is recorded and the
		// proposer's hash kept as the evidence.
		if !bytes.Equal(ChainHash(next.Hash, ev), want) {
			if err := w.recordAuditBreak(ev.Seq); err != nil {
				return Output{}, err
			}
		}
		if err := w.sealEvent(&next, ev, bytes.Clone(want)); err != nil {
			return Output{}, err
		}
	}
	return w.finishSeal(&next)
}

// nextUnsealed reads the first audit event after next's sealed range.
func (w *writer) nextUnsealed(next *metaRecord) (*AuditEvent, error) {
	seq := next.Aux + 1
	ev, err := first[AuditEvent](w.txn, tableAudit, indexID, newKey().u64(seq))
	if err != nil {
		return nil, err
	}
	if ev == nil {
		return nil, fmt.Errorf("%w: audit event %d is missing", ErrCorrupt, seq)
	}
	return ev, nil
}

// sealEvent writes ev with its chain hash and moves next's sealed range and
// chain head past it.
func (w *writer) sealEvent(next *metaRecord, ev *AuditEvent, hash []byte) error {
	sealed := *ev
	sealed.Hash = hash
	sealed.Version = w.index
	if err := w.insert(tableAudit, &sealed); err != nil {
		return err
	}
	next.Aux = ev.Seq
	next.Hash = hash
	return nil
}

// finishSeal stores the audit counters after a seal and answers the last
// sealed sequence number.
func (w *writer) finishSeal(next *metaRecord) (Output, error) {
	if err := w.insert(tableMeta, next); err != nil {
		return Output{}, err
	}
	return Output{Number: next.Aux}, nil
}

// recordAuditBreak remembers the first audit event found changed while
// sealing (see [Snapshot.VerifyAudit]).
func (w *writer) recordAuditBreak(seq uint64) error {
	b, err := first[metaRecord](w.txn, tableMeta, indexID, newKey().str(metaAuditBreak))
	if err != nil || b != nil {
		return err
	}
	return w.insert(tableMeta, &metaRecord{Name: metaAuditBreak, Value: seq})
}

// sealAuditV1 applies a seal of the retired [SealAuditV1Type], as logs
// written before seals carried their chain hold it: up to max unsealed
// events are chained as they are at apply time.
func (w *writer) sealAuditV1(m *metaRecord, max uint32) (Output, error) {
	next := *m
	for next.Aux < next.Value && next.Aux-m.Aux < uint64(max) {
		ev, err := w.nextUnsealed(&next)
		if err != nil {
			return Output{}, err
		}
		if err := w.sealEvent(&next, ev, ChainHash(next.Hash, ev)); err != nil {
			return Output{}, err
		}
	}
	return w.finishSeal(&next)
}

func (w *writer) putEvidence(c PutEvidence) error {
	ev := c.Evidence
	dup, err := first[EvidenceRef](w.txn, tableEvidence, indexID, newKey().str(ev.ID))
	if err != nil {
		return err
	}
	if dup != nil {
		return w.conflict("evidence %q already exists", ev.ID)
	}
	if _, err := w.order(ev.OrderID, ev.OrgID); err != nil {
		return err
	}
	ev.Version = w.index
	return w.insert(tableEvidence, &ev)
}

func (w *writer) putEnvelope(c PutEnvelope) error {
	en := c.Envelope
	dup, err := first[EnvelopeRef](w.txn, tableEnvelopes, indexID, newKey().str(en.ID))
	if err != nil {
		return err
	}
	if dup != nil {
		return w.conflict("envelope %q already exists", en.ID)
	}
	if _, err := w.order(en.OrderID, en.OrgID); err != nil {
		return err
	}
	en.Version = w.index
	return w.insert(tableEnvelopes, &en)
}

func (w *writer) lease(name string) (*Lease, error) {
	return first[Lease](w.txn, tableLeases, indexID, newKey().str(name))
}

// checkFence implements lease fencing: the batch holds only if the lease
// still has the token's holder and epoch and has not expired at the
// batch's time.
func (w *writer) checkFence(t LeaseToken) error {
	l, err := w.lease(t.Name)
	if err != nil {
		return err
	}
	if l == nil || l.Holder != t.Holder || l.Epoch != t.Epoch || !w.at.Before(l.ExpiresAt) {
		return fmt.Errorf("%w: lease %q epoch %d", ErrLeaseLost, t.Name, t.Epoch)
	}
	return nil
}

func (w *writer) acquireLease(c AcquireLease) (Output, error) {
	cur, err := w.lease(c.Name)
	if err != nil {
		return Output{}, err
	}
	next := Lease{Name: c.Name, Holder: c.Holder, Epoch: 1}
	if cur != nil {
		live := w.at.Before(cur.ExpiresAt)
		switch {
		case live && cur.Holder != c.Holder:
			return Output{}, w.conflict("lease %q is held until %s", c.Name, cur.ExpiresAt.Format(time.RFC3339))
		case live:
			next.Epoch = cur.Epoch
		default:
			next.Epoch = cur.Epoch + 1
		}
	}
	next.ExpiresAt = NormalizeTime(w.at.Add(c.TTL))
	next.Version = w.index
	if err := w.insert(tableLeases, &next); err != nil {
		return Output{}, err
	}
	return Output{Number: next.Epoch, ExpiresAt: next.ExpiresAt}, nil
}

func (w *writer) renewLease(c RenewLease) (Output, error) {
	if err := w.checkFence(c.Token); err != nil {
		return Output{}, err
	}
	cur, err := w.lease(c.Token.Name)
	if err != nil {
		return Output{}, err
	}
	next := *cur
	next.ExpiresAt = NormalizeTime(w.at.Add(c.TTL))
	next.Version = w.index
	if err := w.insert(tableLeases, &next); err != nil {
		return Output{}, err
	}
	return Output{Number: next.Epoch, ExpiresAt: next.ExpiresAt}, nil
}

func (w *writer) releaseLease(c ReleaseLease) error {
	if err := w.checkFence(c.Token); err != nil {
		if errors.Is(err, ErrLeaseLost) {
			return nil // already lost: releasing is a no-op
		}
		return err
	}
	cur, err := w.lease(c.Token.Name)
	if err != nil {
		return err
	}
	next := *cur
	next.ExpiresAt = w.at
	next.Version = w.index
	return w.insert(tableLeases, &next)
}
