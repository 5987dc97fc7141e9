package store

import (
	"fmt"
)

func (v *view) CheckInvariants() error {
	if err := v.check(); err != nil {
		return err
	}
	if err := checkIndexes(v.txn); err != nil {
		return err
	}
	return checkRecords(v.txn)
}

// checkIndexes compares every index with a full scan of its table: each
// record yields exactly the keys its index computes, each key leads back to
// the record, and no index holds anything else.
func checkIndexes(txn *dbTxn) error {
	for _, t := range txn.db.schema.tables {
		primary := t.indexes[0]
		idOf := func(o any) key { k, _ := primary.key(nil, o); return k }
		var objs []any
		it, err := txn.Get(t.name, primary.name, nil)
		if err != nil {
			return err
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			objs = append(objs, raw)
		}
		for _, ix := range t.indexes {
			expected := 0
			for _, o := range objs {
				var keys []key
				if ix.multi != nil {
					keys = ix.multi(o)
				} else if k, ok := ix.key(nil, o); ok {
					keys = []key{k}
				}
				for _, k := range keys {
					got, err := txn.First(t.name, ix.name, k)
					if err != nil {
						return err
					}
					if got != o {
						return fmt.Errorf("%w: index %s.%s: key of %q leads elsewhere", ErrCorrupt, t.name, ix.name, idOf(o))
					}
				}
				expected += len(keys)
			}
			n := 0
			it, err := txn.Get(t.name, ix.name, nil)
			if err != nil {
				return err
			}
			for raw := it.Next(); raw != nil; raw = it.Next() {
				cur, err := txn.First(t.name, primary.name, idOf(raw))
				if err != nil {
					return err
				}
				if cur != raw {
					return fmt.Errorf("%w: index %s.%s holds a stale object %q", ErrCorrupt, t.name, ix.name, idOf(raw))
				}
				n++
			}
			if size, err := txn.Len(t.name, ix.name); err != nil || size != n {
				return fmt.Errorf("%w: index %s.%s counts %d entries, holds %d", ErrCorrupt, t.name, ix.name, size, n)
			}
			if n != expected {
				return fmt.Errorf("%w: index %s.%s has %d entries, a full scan gives %d", ErrCorrupt, t.name, ix.name, n, expected)
			}
		}
	}
	return nil
}

// checkRecords checks the cross-record rules of STORE.md.
func checkRecords(txn *dbTxn) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: invariant: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	orders := 0
	err := scanPrefix(txn, tableOrders, indexID, newKey(), func(raw any) error {
		o := raw.(*Order)
		orders++
		st, err := first[StatusRecord](txn, tableStatuses, indexID, newKey().str(o.ID))
		if err != nil {
			return err
		}
		if st == nil || st.OrgID != o.OrgID || !st.InputDate.Equal(o.CreatedAt) {
			return bad("order %q has no matching status record", o.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	statuses, listedCerts, schedules := 0, 0, 0
	err = scanPrefix(txn, tableStatuses, indexID, newKey(), func(raw any) error {
		st := raw.(*StatusRecord)
		statuses++
		want, err := expectedSchedule(txn, st)
		if err != nil {
			return err
		}
		got, err := first[Schedule](txn, tableSchedules, indexID, newKey().str(st.OrderID))
		if err != nil {
			return err
		}
		switch {
		case want == nil && got != nil:
			return bad("%s order %q has a schedule", st.Status, st.OrderID)
		case want != nil && (got == nil || got.OrgID != want.OrgID || got.Status != want.Status ||
			!got.HoldUntil.Equal(want.HoldUntil) || !got.NotAfter.Equal(want.NotAfter)):
			return bad("%s order %q lacks its schedule (hold end %s, notAfter %s)", st.Status, st.OrderID, want.HoldUntil, want.NotAfter)
		case want != nil:
			schedules++
		}
		if st.ProductID == "" {
			return nil
		}
		p, err := first[Product](txn, tableProducts, indexID, newKey().str(st.ProductID))
		if err != nil {
			return err
		}
		if p == nil || p.OrderID != st.OrderID {
			return bad("order %q names a missing product %q", st.OrderID, st.ProductID)
		}
		for _, c := range p.Certificates {
			e, err := first[CRLEntry](txn, tableCRLEntries, indexID, newKey().str(c.Issuer).u32(c.Shard).serial(c.Serial))
			if err != nil {
				return err
			}
			switch {
			case st.Status.listed() && (e == nil || e.ProductID != p.ID):
				return bad("%s product %q lacks its CRL entry in %s/%d", st.Status, p.ID, c.Issuer, c.Shard)
			case st.Status == StatusSuspended && e.ReasonCode != 6:
				return bad("suspended product %q is not listed as certificateHold", p.ID)
			case !st.Status.listed() && e != nil:
				return bad("%s product %q has a CRL entry", st.Status, p.ID)
			}
			if st.Status.listed() {
				listedCerts++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if statuses != orders {
		return bad("%d status records for %d orders", statuses, orders)
	}
	n := 0
	if err := scanPrefix(txn, tableSchedules, indexID, newKey(), func(any) error { n++; return nil }); err != nil {
		return err
	}
	if n != schedules {
		return bad("%d schedules for %d scheduled orders", n, schedules)
	}
	if err := checkAccounts(txn, bad); err != nil {
		return err
	}
	entries := 0
	if err := scanPrefix(txn, tableCRLEntries, indexID, newKey(), func(any) error { entries++; return nil }); err != nil {
		return err
	}
	if entries != listedCerts {
		return bad("%d CRL entries for %d listed certificates", entries, listedCerts)
	}
	err = scanPrefix(txn, tableIntents, indexID, newKey(), func(raw any) error {
		in := raw.(*IntentRecord)
		p, err := first[Product](txn, tableProducts, indexSerial, newKey().str(in.Issuer).serial(in.Serial))
		if err != nil {
			return err
		}
		switch in.State {
		case IntentCompleted:
			if p == nil || p.ID != in.ProductID {
				return bad("completed intent %q has no product", in.ID)
			}
		case IntentOpen, IntentAbandoned:
			if p != nil {
				return bad("%s intent %q has a product", in.State, in.ID)
			}
		default:
			return bad("intent %q in state %q", in.ID, in.State)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return scanPrefix(txn, tableProducts, indexID, newKey(), func(raw any) error {
		p := raw.(*Product)
		for _, c := range p.Certificates {
			in, err := first[IntentRecord](txn, tableIntents, indexSerial, newKey().str(c.Issuer).serial(c.Serial))
			if err != nil {
				return err
			}
			if in == nil || in.State != IntentCompleted || in.ProductID != p.ID {
				return bad("product %q certificate without a completed intent", p.ID)
			}
		}
		return nil
	})
}

// checkAccounts checks that units form two levels within their
// organisation and that credentials and sessions belong to existing
// operators of their organisation.
func checkAccounts(txn *dbTxn, bad func(string, ...any) error) error {
	err := scanPrefix(txn, tableUnits, indexID, newKey(), func(raw any) error {
		u := raw.(*Unit)
		if u.ParentID == "" {
			return nil
		}
		p, err := first[Unit](txn, tableUnits, indexID, newKey().str(u.ParentID))
		if err != nil {
			return err
		}
		if p == nil || p.OrgID != u.OrgID || p.ParentID != "" {
			return bad("unit %q has a parent %q that is not a main unit of its organisation", u.ID, u.ParentID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	owner := func(what, id, operator, org string) error {
		op, err := first[Operator](txn, tableOperators, indexID, newKey().str(operator))
		if err != nil {
			return err
		}
		if op == nil || op.OrgID != org {
			return bad("%s %q belongs to no operator %q of organisation %q", what, id, operator, org)
		}
		return nil
	}
	err = scanPrefix(txn, tableCredentials, indexID, newKey(), func(raw any) error {
		c := raw.(*Credentials)
		return owner("credentials", c.OperatorID, c.OperatorID, c.OrgID)
	})
	if err != nil {
		return err
	}
	return scanPrefix(txn, tableSessions, indexID, newKey(), func(raw any) error {
		s := raw.(*Session)
		return owner("session", s.ID, s.OperatorID, s.OrgID)
	})
}
