package store

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// encOperatorV1 writes an operator as formats before 5 did, without a tax
// code.
func encOperatorV1(e *encoder, v *Operator) {
	e.str(v.ID)
	e.str(v.OrgID)
	e.str(v.UnitID)
	e.str(v.Username)
	e.str(v.Name)
	e.str(v.Email)
	e.str(v.Role)
	e.boolean(v.Disabled)
	e.time(v.CreatedAt)
	e.u64(v.Version)
}

// asV4 rewrites the operator records of snapshot parts as formats before 5
// wrote them.
func asV4(t *testing.T, parts []snapPart) []snapPart {
	t.Helper()
	out := make([]snapPart, len(parts))
	for i, p := range parts {
		if p.tag == 3 {
			d := &decoder{b: p.body}
			op := decOperator(d)
			require.NoError(t, d.end())
			e := &encoder{}
			encOperatorV1(e, &op)
			p.body = e.b
		}
		out[i] = p
	}
	return out
}

// writeSnapshotV1 writes st as snapshot format 1 did: no credentials,
// sessions or schedules, units without a parent.
func writeSnapshotV1(t *testing.T, st *state, index uint64) []byte {
	t.Helper()
	txn := st.db.Txn(false)
	e := &encoder{}
	e.b = append(e.b, snapshotMagic...)
	e.u64(1)
	e.u64(index)
	for _, tb := range snapTables() {
		if tb.tag > 18 {
			continue
		}
		it, err := txn.Get(tb.table, indexID, newKey())
		require.NoError(t, err)
		for raw := it.Next(); raw != nil; raw = it.Next() {
			rec := &encoder{}
			if u, ok := raw.(*Unit); ok {
				rec.str(u.ID)
				rec.str(u.OrgID)
				rec.str(u.Name)
				rec.u64(u.Version)
			} else if op, ok := raw.(*Operator); ok {
				encOperatorV1(rec, op)
			} else {
				tb.enc(rec, raw)
			}
			e.byte1(tb.tag)
			e.bytes(rec.b)
		}
	}
	e.byte1(0)
	sum := sha256.Sum256(e.b)
	return append(e.b, sum[:]...)
}

// TestReadSnapshotV1 restores a format-1 snapshot: units come back without
// a parent and the schedules are derived from statuses, products and the
// latest suspension, so a hold taken before the upgrade is still released.
func TestReadSnapshotV1(t *testing.T) {
	t.Parallel()
	st, err := newState()
	require.NoError(t, err)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	hold := at.Add(48 * time.Hour)
	notAfter := at.AddDate(3, 0, 0)
	serial := []byte{0x81, 2, 3}
	cmds := []Command{
		PutOrganisation{Organisation: Organisation{ID: "org", Name: "Org"}},
		PutUnit{Unit: Unit{ID: "unit", OrgID: "org", Name: "Sede"}},
		PutOperator{Operator: Operator{ID: "op", OrgID: "org", UnitID: "unit", Username: "op", Role: "rao"}},
		PutHolder{Holder: HolderIdentity{ID: "h", TaxCode: "T", FirstName: "A", Surname: "B"}},
		PutOrder{Order: Order{ID: "ord", OrgID: "org", OperatorID: "op", HolderID: "h", ProductType: "p", CreatedAt: at}, InitialStatus: StatusToIdentify},
		ChangeStatus{Change: StatusChange{ID: "c0", OrderID: "ord", From: StatusToIdentify, To: StatusToIssue, At: at, ReasonCode: -1}},
		PrepareIntent{Intent: IntentRecord{ID: "in", OrgID: "org", OrderID: "ord", Issuer: "ca", Serial: serial, CreatedAt: at}},
		CompleteIntent{Product: Product{ID: "prod", OrgID: "org", OrderID: "ord", HolderID: "h", ProductType: "p", IssuedAt: at,
			Certificates: []Certificate{{Issuer: "ca", Serial: serial, NotBefore: at, NotAfter: notAfter, CertificateBlob: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}}},
		ChangeStatus{Change: StatusChange{ID: "c1", OrderID: "ord", From: StatusToIssue, To: StatusActive, At: at, ReasonCode: -1}, ActivatedAt: at},
		ChangeStatus{Change: StatusChange{ID: "c2", OrderID: "ord", From: StatusActive, To: StatusSuspended, At: at.Add(time.Hour),
			ReasonCode: -1, Mode: PublicationNormal, Deadline: at.Add(25 * time.Hour), HoldUntil: hold}},
	}
	_, err = st.applyEntry(1, &entry{At: at, Commands: cmds})
	require.NoError(t, err)

	got, index, err := readSnapshot(bytes.NewReader(writeSnapshotV1(t, st, 1)))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), index)
	v := &view{txn: got.db.Txn(false), index: index}
	require.NoError(t, v.CheckInvariants(), "schedules rebuilt")
	holds, err := v.HoldsEnding(time.Time{}, hold, 10)
	require.NoError(t, err)
	require.Len(t, holds, 1)
	assert.Equal(t, Schedule{OrderID: "ord", OrgID: "org", Status: StatusSuspended, HoldUntil: hold, NotAfter: notAfter, Version: 1}, holds[0])
	u, err := v.Unit("unit")
	require.NoError(t, err)
	assert.Equal(t, Unit{ID: "unit", OrgID: "org", Name: "Sede", Version: 1}, u)
}

// TestSnapshotSteps: recognition steps and operators' tax codes come back
// from a snapshot (format 5), the steps with their expiry index; a format-3
// snapshot, written before either was kept, restores without them, and one
// that claims format 3 but carries steps is refused.
func TestSnapshotSteps(t *testing.T) {
	t.Parallel()
	st, err := newState()
	require.NoError(t, err)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	step := StepRecord{OrderID: "ord", Kind: "form_signature", OrgID: "org", OperatorID: "op",
		Blob: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	_, err = st.applyEntry(1, &entry{At: at, Commands: []Command{
		PutOrganisation{Organisation: Organisation{ID: "org", Name: "Org"}},
		PutOperator{Operator: Operator{ID: "op", OrgID: "org", Username: "op", TaxCode: "RSSMRA80A01H501U", Role: "rao"}},
		PutHolder{Holder: HolderIdentity{ID: "h", TaxCode: "T", FirstName: "A", Surname: "B"}},
		PutOrder{Order: Order{ID: "ord", OrgID: "org", OperatorID: "op", HolderID: "h", ProductType: "p", CreatedAt: at}, InitialStatus: StatusToIdentify},
		PutStep{Step: step},
	}})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, writeSnapshot(&buf, st.db.Txn(false), 7))

	got, index, err := readSnapshot(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	v := &view{txn: got.db.Txn(false), index: index}
	require.NoError(t, v.CheckInvariants())
	steps, err := v.Steps("ord")
	require.NoError(t, err)
	assert.Equal(t, []StepRecord{step}, steps)
	expired, err := v.ExpiredSteps(at.Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Equal(t, []StepRecord{step}, expired)
	op, err := v.Operator("op")
	require.NoError(t, err)
	assert.Equal(t, "RSSMRA80A01H501U", op.TaxCode)

	_, idx, parts := splitSnapshot(t, buf.Bytes())
	var v3 []snapPart
	for _, p := range parts {
		if p.tag&^indexBlockTag != 22 {
			v3 = append(v3, p)
		}
	}
	got, _, err = readSnapshot(bytes.NewReader(joinSnapshot(3, idx, asV4(t, v3))))
	require.NoError(t, err)
	v = &view{txn: got.db.Txn(false), index: idx}
	require.NoError(t, v.CheckInvariants())
	steps, err = v.Steps("ord")
	require.NoError(t, err)
	assert.Empty(t, steps)
	op, err = v.Operator("op")
	require.NoError(t, err)
	assert.Empty(t, op.TaxCode, "no tax code before format 5")
	assert.Equal(t, "rao", op.Role)

	_, _, err = readSnapshot(bytes.NewReader(joinSnapshot(3, idx, asV4(t, parts))))
	require.ErrorIs(t, err, ErrCorrupt)
}
