package store

import (
	"bytes"
	"testing"
	"time"
)

// FuzzDecodeEntry: a Raft log entry that does not decode is refused, never
// a panic.
func FuzzDecodeEntry(f *testing.F) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f.Add(encodeEntry(&entry{Org: "org-1", IdempotencyKey: "k", At: at, Fence: &LeaseToken{Name: "l", Holder: "h", Epoch: 2},
		Commands: []Command{SealAudit{Max: 3, From: 2, Hashes: [][]byte{bytes.Repeat([]byte{1}, 32)}}, SealAudit{Max: 3}, ReserveCRLNumber{Scope: CRLScope{Issuer: "ca", Shard: 1}}}}))
	f.Add(encodeEntry(&entry{At: at, Commands: []Command{AbandonIntent{IntentID: "i", Reason: "r"}}}))
	f.Fuzz(func(t *testing.T, in []byte) {
		en, err := decodeEntry(in)
		if err != nil {
			return
		}
		if _, err := decodeEntry(encodeEntry(en)); err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
	})
}

// FuzzReadSnapshot: a damaged snapshot is refused, never a panic, and never
// half-restored.
func FuzzReadSnapshot(f *testing.F) {
	st, err := newState()
	if err != nil {
		f.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	_, err = st.applyEntry(1, &entry{At: at, Commands: []Command{
		PutOrganisation{Organisation: Organisation{ID: "o", Name: "n"}},
		PutOperator{Operator: Operator{ID: "op", OrgID: "o", Username: "op", TaxCode: "RSSMRA80A01H501U", Role: "rao"}},
		PutHolder{Holder: HolderIdentity{ID: "h", TaxCode: "T", FirstName: "A", Surname: "B"}},
		PutOrder{Order: Order{ID: "ord", OrgID: "o", OperatorID: "op", HolderID: "h", ProductType: "p", CreatedAt: at}, InitialStatus: StatusToIdentify},
		PutStep{Step: StepRecord{OrderID: "ord", Kind: "form_signature", OrgID: "o", OperatorID: "op",
			Blob: "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}},
		AppendAudit{Event: AuditEvent{At: at, Action: "a"}},
		ReserveCRLNumber{Scope: CRLScope{Issuer: "ca"}},
	}})
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeSnapshot(&buf, st.db.Txn(false), 1); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		_, _, _ = readSnapshot(bytes.NewReader(in))
	})
}
