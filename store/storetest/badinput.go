package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
)

func testBadInput(t *testing.T, f *Fixture) {
	ctx := context.Background()
	org, op := f.Org()
	h := f.Holder("Anna", "Verdi", "VRDNNA80A41H501X")
	o := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	holder := func(mod func(*store.HolderIdentity)) []store.Command {
		c := h
		c.ID = "new-holder"
		c.UserID, c.Email, c.Mobile, c.IUT = "", "", "", ""
		mod(&c)
		return []store.Command{store.PutHolder{Holder: c}}
	}
	order := func(mod func(*store.Order)) []store.Command {
		c := o
		c.ID = "new-order"
		c.ExternalCode = ""
		mod(&c)
		return []store.Command{store.PutOrder{Order: c, InitialStatus: store.StatusDraft}}
	}
	tests := []struct {
		name  string
		batch store.Batch
		field string
	}{
		{"invalid UTF-8", store.Batch{Commands: holder(func(h *store.HolderIdentity) { h.FirstName = "Nicol\xf2" })}, "commands[0].holder.first_name"},
		{"NUL byte", store.Batch{Commands: holder(func(h *store.HolderIdentity) { h.Surname = "Ros\x00si" })}, "commands[0].holder.surname"},
		{"over-long e-mail", store.Batch{Commands: holder(func(h *store.HolderIdentity) { h.Email = strings.Repeat("a", 250) + "@x.it" })}, "commands[0].holder.email"},
		{"over-long tax code", store.Batch{Commands: holder(func(h *store.HolderIdentity) { h.TaxCode = strings.Repeat("X", 33) })}, "commands[0].holder.tax_code"},
		{"missing surname", store.Batch{Commands: holder(func(h *store.HolderIdentity) { h.Surname = "" })}, "commands[0].holder.surname"},
		{"ID with a space", store.Batch{Commands: holder(func(h *store.HolderIdentity) { h.ID = "a b" })}, "commands[0].holder.id"},
		{"over-long ID", store.Batch{Commands: holder(func(h *store.HolderIdentity) { h.ID = strings.Repeat("a", 65) })}, "commands[0].holder.id"},
		{"year 10000", store.Batch{Commands: order(func(o *store.Order) { o.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })}, "commands[0].order.created_at"},
		{"missing input date", store.Batch{Commands: order(func(o *store.Order) { o.CreatedAt = time.Time{} })}, "commands[0].order.created_at"},
		{"over-long nickname", store.Batch{Commands: order(func(o *store.Order) { o.Nickname = strings.Repeat("n", store.MaxNameLen+1) })}, "commands[0].order.nickname"},
		{"over-long external code", store.Batch{Commands: order(func(o *store.Order) { o.ExternalCode = strings.Repeat("é", 300) })}, "commands[0].order.external_code"},
		{"bad initial status", store.Batch{Commands: []store.Command{store.PutOrder{Order: o, InitialStatus: store.StatusActive}}}, "commands[0].initial_status"},
		{"unknown status", store.Batch{Commands: []store.Command{store.ChangeStatus{Change: store.StatusChange{ID: "c", OrderID: o.ID,
			From: store.StatusToIdentify, To: "approved", At: f.Base, ReasonCode: -1}}}}, "commands[0].change.to"},
		{"reason code 7", store.Batch{Commands: []store.Command{store.ChangeStatus{Change: store.StatusChange{ID: "c", OrderID: o.ID,
			From: store.StatusToIdentify, To: store.StatusToIssue, At: f.Base, ReasonCode: 7}}}}, "commands[0].change.reason_code"},
		{"publication without deadline", store.Batch{Commands: []store.Command{store.ChangeStatus{Change: store.StatusChange{ID: "c", OrderID: o.ID,
			From: store.StatusToIdentify, To: store.StatusToIssue, At: f.Base, ReasonCode: -1, Mode: store.PublicationImmediate}}}}, "commands[0].change.deadline"},
		{"serial with a leading zero", store.Batch{Commands: []store.Command{store.PrepareIntent{Intent: store.IntentRecord{ID: "i", OrgID: org,
			OrderID: o.ID, Issuer: "ca", Serial: []byte{0, 1}, CreatedAt: f.Base}}}}, "commands[0].intent.serial"},
		{"21-octet serial", store.Batch{Commands: []store.Command{store.PrepareIntent{Intent: store.IntentRecord{ID: "i", OrgID: org,
			OrderID: o.ID, Issuer: "ca", Serial: make21(), CreatedAt: f.Base}}}}, "commands[0].intent.serial"},
		{"upper-case blob hash", store.Batch{Commands: []store.Command{store.PutEvidence{Evidence: store.EvidenceRef{ID: "e", OrgID: org,
			OrderID: o.ID, Method: "spid", Blobs: []string{strings.ToUpper(BlobHash("x"))}, CreatedAt: f.Base}}}}, "commands[0].evidence.blobs[0]"},
		{"second command bad", store.Batch{Commands: append([]store.Command{store.ReserveCRLNumber{Scope: store.CRLScope{Issuer: "ca"}}},
			holder(func(h *store.HolderIdentity) { h.Mobile = "\x00" })...)}, "commands[1].holder.mobile"},
		{"session ID not a hash", store.Batch{Commands: []store.Command{store.PutSession{Session: store.Session{ID: "token", OperatorID: op,
			OrgID: org, CreatedAt: f.Base, ExpiresAt: f.Base.Add(time.Hour)}}}}, "commands[0].session.id"},
		{"session ending before it starts", store.Batch{Commands: []store.Command{store.PutSession{Session: store.Session{ID: BlobHash("t"),
			OperatorID: op, OrgID: org, CreatedAt: f.Base, ExpiresAt: f.Base}}}}, "commands[0].session.expires_at"},
		{"credentials without sealed secrets", store.Batch{Commands: []store.Command{store.PutCredentials{Credentials: store.Credentials{
			OperatorID: op, OrgID: org}}}}, "commands[0].credentials.sealed"},
		{"over-long sealed credentials", store.Batch{Commands: []store.Command{store.PutCredentials{Credentials: store.Credentials{
			OperatorID: op, OrgID: org, Sealed: make([]byte, store.MaxNotesLen+1)}}}}, "commands[0].credentials.sealed"},
		{"unit parent with a NUL byte", store.Batch{Commands: []store.Command{store.PutUnit{Unit: store.Unit{ID: "u", OrgID: org,
			Name: "U", ParentID: "p\x00"}}}}, "commands[0].unit.parent_id"},
		{"empty batch", store.Batch{}, "batch.commands"},
		{"idempotency key without organisation", store.Batch{IdempotencyKey: "k", Commands: []store.Command{store.SealAudit{Max: 1}}}, "batch.org"},
		{"seal of zero events", store.Batch{Commands: []store.Command{store.SealAudit{}}}, "commands[0].max"},
		{"lease TTL", store.Batch{Commands: []store.Command{store.AcquireLease{Name: "l", Holder: "h", TTL: 48 * time.Hour}}}, "commands[0].ttl"},
		{"store-set audit fields", store.Batch{Commands: []store.Command{store.AppendAudit{Event: store.AuditEvent{Seq: 9, At: f.Base, Action: "x"}}}}, "commands[0].event"},
		{"nil command", store.Batch{Commands: []store.Command{nil}}, "commands[0]."},
		{"no blobs", store.Batch{Commands: []store.Command{store.PutBlobs{}}}, "commands[0].blobs"},
		{"empty blob", store.Batch{Commands: []store.Command{store.PutBlobs{Blobs: [][]byte{[]byte("x"), {}}}}}, "commands[0].blobs[1]"},
		{"blob too large", store.Batch{Commands: []store.Command{store.PutBlobs{Blobs: [][]byte{make([]byte, store.MaxBatchBlob+1)}}}}, "commands[0].blobs[0]"},
		{"blobs of a batch too large", store.Batch{Commands: []store.Command{
			store.PutBlobs{Blobs: slices.Repeat([][]byte{make([]byte, store.MaxBatchBlob)}, store.MaxBatchBlobs/store.MaxBatchBlob)},
			store.PutBlobs{Blobs: [][]byte{[]byte("one byte too many")}}}}, "commands[1].blobs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := fingerprint(t, f.S)
			_, err := f.S.Apply(ctx, &tc.batch)
			require.Error(t, err)
			assert.ErrorIs(t, err, store.ErrInvalidInput)
			fe, ok := errors.AsType[*store.FieldError](err)
			require.True(t, ok, "want a *store.FieldError, got %T", err)
			assert.Equal(t, tc.field, fe.Field)
			assert.Equal(t, before, fingerprint(t, f.S), "bad input changes nothing")
		})
	}
	// One exact message, so messages stay readable.
	_, err := f.S.Apply(ctx, &store.Batch{Commands: holder(func(h *store.HolderIdentity) { h.Surname = "Ros\x00si" })})
	assert.EqualError(t, err, "store: commands[0].holder.surname: contains a NUL byte")

	snap := f.Snap()
	defer snap.Close()
	for _, tc := range []struct {
		name  string
		q     store.SearchQuery
		field string
	}{
		{"no organisation", store.SearchQuery{Surname: "x"}, "query.org"},
		{"invalid UTF-8 filter", store.SearchQuery{Org: org, Surname: "\xff"}, "query.surname"},
		{"NUL filter", store.SearchQuery{Org: org, TaxCode: "A\x00"}, "query.tax_code"},
		{"limit", store.SearchQuery{Org: org, Limit: store.MaxSearchLimit + 1}, "query.limit"},
		{"bad cursor", store.SearchQuery{Org: org, Cursor: "not-a-cursor"}, "query.cursor"},
		{"unknown status", store.SearchQuery{Org: org, Status: "approved"}, "query.status"},
		{"personal data with two filters", store.SearchQuery{Org: org, PersonalData: true, TaxCode: "X", Surname: "Y"}, "query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := snap.Search(tc.q)
			fe, ok := errors.AsType[*store.FieldError](err)
			require.True(t, ok, "want a *store.FieldError, got %v", err)
			assert.ErrorIs(t, err, store.ErrInvalidInput)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
}

func make21() []byte {
	b := make([]byte, 21)
	b[0] = 1
	return b
}
