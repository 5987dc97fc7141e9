package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
)

// Run runs every group of the conformance suite (STORE.md) against stores
// made by open, which must return a fresh, empty store and close it when
// the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name string
		fn   func(t *testing.T, f *Fixture)
	}{
		{"RoundTrip", testRoundTrip},
		{"SearchOracle", testSearchOracle},
		{"SearchPagingDuringInserts", testPagingDuringInserts},
		{"SearchPersonalData", testPersonalData},
		{"Preconditions", testPreconditions},
		{"Idempotency", testIdempotency},
		{"ConcurrentCRLNumbers", testConcurrentCRLNumbers},
		{"Leases", testLeases},
		{"ConcurrentStatusChanges", testConcurrentStatusChanges},
		{"CRLAndPublication", testCRLAndPublication},
		{"Intents", testIntents},
		{"AuditChain", testAuditChain},
		{"BadInput", testBadInput},
		{"Accounts", testAccounts},
		{"Sessions", testSessions},
		{"Schedules", testSchedules},
		{"Steps", testSteps},
		{"BatchBlobs", testBatchBlobs},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := NewFixture(t, s)
			g.fn(t, f)
			CheckInvariants(t, s)
		})
	}
}

// CheckInvariants checks the invariants of STORE.md through the interface:
// the backend's own check (indexes agree with a full scan, CRL entries, intents)
// and the audit chain.
func CheckInvariants(t testing.TB, s store.Store) {
	t.Helper()
	snap, err := s.Snapshot(context.Background())
	require.NoError(t, err)
	defer snap.Close()
	require.NoError(t, snap.CheckInvariants())
	require.NoError(t, snap.VerifyAudit())
}

func testRoundTrip(t *testing.T, f *Fixture) {
	far := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("CET", 3600))
	odd := time.Date(2026, 2, 28, 23, 30, 0, 123456789, time.FixedZone("CET", 3600))
	wantOdd := odd.UTC().Truncate(time.Microsecond)
	org, op := f.Org()
	h := store.HolderIdentity{ID: "holder-dannunzio", UserID: "user-1", TaxCode: "DNNGRL63A12H501X",
		FirstName: "NICOLÒ", Surname: "D'ANNUNZIO", BirthDate: time.Date(1863, 3, 12, 0, 0, 0, 0, time.UTC),
		Email: "nicolo.dannunzio@example.it", Mobile: "+393331234567", IUT: "WSREF-12345", CreatedAt: odd}
	r := f.Apply(store.PutHolder{Holder: h})
	h.Version, h.CreatedAt = r.Index, wantOdd

	o := store.Order{ID: "order-edge", OrgID: org, OperatorID: op, HolderID: h.ID, ExternalCode: "EXT/ÀÈÌ-1",
		ProductType: "firma-remota", Nickname: "la mia firma", DeviceSerial: "SN-0001", DurationMonth: 36,
		RoleOrg: "Comune di Pescara", Role: "Sindaco", CreatedAt: odd, UpdatedAt: far}
	r = f.Apply(store.PutOrder{Order: o, InitialStatus: store.StatusDraft})
	o.Version, o.CreatedAt, o.UpdatedAt = r.Index, wantOdd, far.UTC().Truncate(time.Microsecond)

	serial := bytes.Repeat([]byte{0xff}, 20) // 20 octets, high bit set
	f.Move(o.ID, store.StatusDraft, store.StatusToIdentify, odd)
	f.Move(o.ID, store.StatusToIdentify, store.StatusToIssue, odd)
	in := store.IntentRecord{ID: "intent-edge", OrgID: org, OrderID: o.ID, Issuer: "ca-1", Shard: 4294967295,
		Serial: serial, Profile: "qualified", CreatedAt: odd}
	r = f.Apply(store.PrepareIntent{Intent: in})
	p := store.Product{ID: "product-edge", OrgID: org, OrderID: o.ID, HolderID: h.ID, ProductType: o.ProductType,
		IssuedAt: odd, Certificates: []store.Certificate{{Issuer: "ca-1", Shard: 4294967295, Serial: serial,
			NotBefore: odd, NotAfter: far, CertificateBlob: BlobHash("cert")}}}
	act := f.Change(o.ID, store.StatusToIssue, store.StatusActive, odd)
	r = f.Apply(store.CompleteIntent{Product: p}, act)
	p.Version, p.IssuedAt = r.Index, wantOdd
	p.Certificates[0].NotBefore, p.Certificates[0].NotAfter = wantOdd, far.UTC().Truncate(time.Microsecond)

	ev := store.EvidenceRef{ID: "ev-1", OrgID: org, OrderID: o.ID, Method: "sign_id", Blobs: []string{BlobHash("a"), BlobHash("b")}, CreatedAt: odd}
	env := store.EnvelopeRef{ID: "env-1", OrgID: org, OrderID: o.ID, ProductID: p.ID, Format: "cms-pwri", Blob: BlobHash("env"), CreatedAt: odd}
	r = f.Apply(store.PutEvidence{Evidence: ev}, store.PutEnvelope{Envelope: env})
	ev.Version, ev.CreatedAt, env.Version, env.CreatedAt = r.Index, wantOdd, r.Index, wantOdd

	// A second order's references must not show under the first.
	o2 := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	f.Apply(store.PutEvidence{Evidence: store.EvidenceRef{ID: "ev-0", OrgID: org, OrderID: o2.ID, Method: "spid", CreatedAt: odd}})

	snap := f.Snap()
	defer snap.Close()
	evs, err := snap.OrderEvidence(o.ID)
	require.NoError(t, err)
	assert.Equal(t, []store.EvidenceRef{ev}, evs)
	envs, err := snap.OrderEnvelopes(o.ID)
	require.NoError(t, err)
	assert.Equal(t, []store.EnvelopeRef{env}, envs)
	envs, err = snap.OrderEnvelopes(o2.ID)
	require.NoError(t, err)
	assert.Empty(t, envs)
	gotH, err := snap.Holder(h.ID)
	require.NoError(t, err)
	assert.Equal(t, h, gotH)
	gotO, err := snap.Order(o.ID)
	require.NoError(t, err)
	assert.Equal(t, o, gotO)
	gotP, err := snap.Product(p.ID)
	require.NoError(t, err)
	assert.Equal(t, p, gotP)
	bySerial, err := snap.ProductBySerial("ca-1", serial)
	require.NoError(t, err)
	assert.Equal(t, p, bySerial)
	st, err := snap.Status(o.ID)
	require.NoError(t, err)
	assert.Equal(t, store.StatusRecord{OrderID: o.ID, OrgID: org, Status: store.StatusActive, InputDate: wantOdd,
		ActivatedAt: wantOdd, ProductID: p.ID, UpdatedAt: wantOdd, Version: r.Index - 1}, st)
	gotIn, err := snap.Intent(in.ID)
	require.NoError(t, err)
	assert.Equal(t, store.IntentCompleted, gotIn.State)
	assert.Equal(t, serial, gotIn.Serial)
	gotEv, err := snap.Evidence(ev.ID)
	require.NoError(t, err)
	assert.Equal(t, ev, gotEv)
	gotEnv, err := snap.Envelope(env.ID)
	require.NoError(t, err)
	assert.Equal(t, env, gotEnv)
	hist, err := snap.StatusChanges(o.ID)
	require.NoError(t, err)
	require.Len(t, hist, 3)
	assert.Equal(t, act.Change.ID, hist[2].ID)
	assert.Equal(t, org, hist[2].OrgID)
	assert.Equal(t, time.UTC, hist[2].At.Location())

	for _, get := range []func() error{
		func() error { _, err := snap.Order("missing"); return err },
		func() error { _, err := snap.Holder("missing"); return err },
		func() error { _, err := snap.Product("missing"); return err },
		func() error { _, err := snap.ProductBySerial("ca-1", []byte{1}); return err },
		func() error { _, err := snap.Intent("missing"); return err },
		func() error { _, err := snap.CRL(store.CRLScope{Issuer: "nope"}); return err },
	} {
		assert.ErrorIs(t, get(), store.ErrNotFound)
	}

	// Organisation, unit and operator come back as written.
	orgRec := store.Organisation{ID: "org-edge", Name: "Società Cooperativa «Ünïcode» & C.", ClientCode: "C-Ω", CreatedAt: odd}
	unit := store.Unit{ID: "unit-edge", OrgID: orgRec.ID, Name: "Sede di Forlì"}
	oper := store.Operator{ID: "op-edge", OrgID: orgRec.ID, UnitID: unit.ID, Username: "nicolò.d'annunzio",
		Name: "NICOLÒ D'ANNUNZIO", Email: "n@example.it", TaxCode: "DNNNCL63C12H501X", Role: "master_rao", Disabled: true, CreatedAt: odd}
	r = f.Apply(store.PutOrganisation{Organisation: orgRec}, store.PutUnit{Unit: unit}, store.PutOperator{Operator: oper})
	orgRec.Version, orgRec.CreatedAt, unit.Version, oper.Version, oper.CreatedAt = r.Index, wantOdd, r.Index, r.Index, wantOdd
	// A full status change with every optional field, and a receipt.
	full := store.ChangeStatus{Change: store.StatusChange{ID: "chg-full", OrderID: o.ID, From: store.StatusActive,
		To: store.StatusSuspended, At: odd, ActorID: op, Requester: "third_party", ReasonCode: -1, Notes: "sospensione «cautelativa»",
		ContractBlob: BlobHash("contract"), Mode: store.PublicationImmediate, Deadline: odd.Add(time.Hour), HoldUntil: far,
		RevocationTime: odd, InvalidityDate: odd.Add(-time.Hour)}}
	r = f.Apply(full, store.ReserveCRLNumber{Scope: store.CRLScope{Issuer: "ca-1", Shard: 4294967295}})
	wantChange := full.Change
	wantChange.OrgID, wantChange.Version = org, r.Index
	wantChange.At, wantChange.Deadline, wantChange.HoldUntil = wantOdd, wantOdd.Add(time.Hour), far.UTC().Truncate(time.Microsecond)
	wantChange.RevocationTime, wantChange.InvalidityDate = wantOdd, wantOdd.Add(-time.Hour)
	f.Move(o.ID, store.StatusSuspended, store.StatusActive, odd)
	rc := store.Receipt{ID: "rcpt-edge", Issuer: "ca-1", Shard: 4294967295, CRLNumber: 1, Sink: "directory", PublishedAt: odd, Detail: "ok"}
	r = f.Apply(store.PutReceipt{Receipt: rc})
	rc.Version, rc.PublishedAt = r.Index, wantOdd
	sr := f.Snap()
	defer sr.Close()
	gotOrg, err := sr.Organisation(orgRec.ID)
	require.NoError(t, err)
	assert.Equal(t, orgRec, gotOrg)
	gotUnit, err := sr.Unit(unit.ID)
	require.NoError(t, err)
	assert.Equal(t, unit, gotUnit)
	gotOp, err := sr.Operator(oper.ID)
	require.NoError(t, err)
	assert.Equal(t, oper, gotOp)
	gotChange, err := sr.StatusChange("chg-full")
	require.NoError(t, err)
	assert.Equal(t, wantChange, gotChange)
	gotRc, err := sr.Receipt(rc.ID)
	require.NoError(t, err)
	assert.Equal(t, rc, gotRc)
	crlRec, err := sr.CRL(store.CRLScope{Issuer: "ca-1", Shard: 4294967295})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), crlRec.Reserved)

	// Reads return copies: changing them changes nothing stored.
	gotP.Certificates[0].Serial[0] = 0
	again, err := snap.Product(p.ID)
	require.NoError(t, err)
	assert.Equal(t, serial, again.Certificates[0].Serial)

	// The revoked far-future certificate streams with its 20-octet serial.
	f.Move(o.ID, store.StatusActive, store.StatusRevoked, odd)
	s2 := f.Snap()
	defer s2.Close()
	var entries []store.CRLEntry
	require.NoError(t, s2.CRLEntries(store.CRLScope{Issuer: "ca-1", Shard: 4294967295}, far, func(e store.CRLEntry) error {
		entries = append(entries, e)
		return nil
	}))
	require.Len(t, entries, 1)
	assert.Equal(t, serial, entries[0].Serial)
	assert.Equal(t, int32(1), entries[0].ReasonCode)
}

func testPreconditions(t *testing.T, f *Fixture) {
	ctx := context.Background()
	org, op := f.Org()
	h := f.Holder("Mario", "Rossi", "RSSMRA80A01H501U")
	o := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID, ExternalCode: "EXT-1"})
	before := f.Snap()
	defer before.Close()

	other := f.Holder("Anna", "Bianchi", "BNCNNA80A41H501X")
	tests := []struct {
		name string
		cmds []store.Command
	}{
		{"stale order version", []store.Command{store.PutOrder{Order: withNickname(o, "x"), ExpectVersion: o.Version + 100}}},
		{"create existing order", []store.Command{store.PutOrder{Order: o, InitialStatus: store.StatusDraft}}},
		{"unexpected status", []store.Command{f.Change(o.ID, store.StatusActive, store.StatusSuspended, f.Base)}},
		{"duplicate e-mail", []store.Command{store.PutHolder{Holder: withEmail(other, h.Email), ExpectVersion: other.Version}}},
		{"duplicate e-mail other case", []store.Command{store.PutHolder{Holder: withEmail(other, strings.ToUpper(h.Email)), ExpectVersion: other.Version}}},
		{"duplicate mobile", []store.Command{store.PutHolder{Holder: withMobile(other, h.Mobile), ExpectVersion: other.Version}}},
		{"duplicate external code", []store.Command{store.PutOrder{Order: store.Order{ID: "new-order", OrgID: org, OperatorID: op,
			HolderID: h.ID, ExternalCode: "ext-1", ProductType: "x", CreatedAt: f.Base}, InitialStatus: store.StatusDraft}}},
		{"first command fine, second fails", []store.Command{
			store.AppendAudit{Event: store.AuditEvent{At: f.Base, Action: "order.update"}},
			store.PutOrder{Order: withNickname(o, "y"), ExpectVersion: 1 << 40},
		}},
		{"unknown holder", []store.Command{store.PutOrder{Order: store.Order{ID: "new-order", OrgID: org, OperatorID: op,
			HolderID: "nobody", ProductType: "x", CreatedAt: f.Base}, InitialStatus: store.StatusDraft}}},
		{"operator of another organisation", []store.Command{store.PutOrder{Order: store.Order{ID: "new-order", OrgID: "org-x",
			OperatorID: op, HolderID: h.ID, ProductType: "x", CreatedAt: f.Base}, InitialStatus: store.StatusDraft}}},
	}
	for _, tc := range tests {
		_, err := f.S.Apply(ctx, &store.Batch{Commands: tc.cmds})
		IsConflict(t, err)
	}
	// Duplicate serial: the second intent for the same issuer and serial.
	o2 := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	serial := f.Serial()
	f.Apply(store.PrepareIntent{Intent: store.IntentRecord{ID: "i1", OrgID: org, OrderID: o.ID, Issuer: "ca", Serial: serial, CreatedAt: f.Base}})
	_, err := f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.PrepareIntent{Intent: store.IntentRecord{ID: "i2",
		OrgID: org, OrderID: o2.ID, Issuer: "ca", Serial: serial, CreatedAt: f.Base}}}})
	IsConflict(t, err)

	after := f.Snap()
	defer after.Close()
	got, err := after.Order(o.ID)
	require.NoError(t, err)
	assert.Equal(t, o, got, "a failed precondition changes nothing")
	gotH, err := after.Holder(other.ID)
	require.NoError(t, err)
	assert.Equal(t, other, gotH)
	_, err = after.Order("new-order")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = after.Intent("i2")
	assert.ErrorIs(t, err, store.ErrNotFound)
	n := 0
	require.NoError(t, after.AuditEvents(0, func(store.AuditEvent) error { n++; return nil }))
	assert.Zero(t, n, "the audit event of a failed batch was not written")

	// The right version succeeds.
	r := f.Apply(store.PutOrder{Order: withNickname(o, "nuovo"), ExpectVersion: o.Version})
	s := f.Snap()
	defer s.Close()
	got, err = s.Order(o.ID)
	require.NoError(t, err)
	assert.Equal(t, "nuovo", got.Nickname)
	assert.Equal(t, r.Index, got.Version)
}

func withNickname(o store.Order, n string) store.Order { o.Nickname = n; return o }

func withEmail(h store.HolderIdentity, e string) store.HolderIdentity { h.Email = e; return h }

func withMobile(h store.HolderIdentity, m string) store.HolderIdentity { h.Mobile = m; return h }

func testIdempotency(t *testing.T, f *Fixture) {
	ctx := context.Background()
	org, _ := f.Org()
	org2, _ := f.Org()
	batch := func(org, action string) *store.Batch {
		return &store.Batch{Org: org, IdempotencyKey: "req-42", Commands: []store.Command{
			store.ReserveCRLNumber{Scope: store.CRLScope{Issuer: "ca-idem"}},
			store.AppendAudit{Event: store.AuditEvent{OrgID: org, At: f.Base, Action: action}},
		}}
	}
	r1, err := f.S.Apply(ctx, batch(org, "crl.reserve"))
	require.NoError(t, err)
	assert.False(t, r1.Replayed)
	r2, err := f.S.Apply(ctx, batch(org, "crl.reserve"))
	require.NoError(t, err)
	assert.True(t, r2.Replayed)
	assert.Equal(t, r1.Index, r2.Index)
	assert.Equal(t, r1.Outputs, r2.Outputs)

	_, err = f.S.Apply(ctx, batch(org, "something.else"))
	assert.ErrorIs(t, err, store.ErrIdempotencyMismatch)

	// The key is per organisation.
	r3, err := f.S.Apply(ctx, batch(org2, "crl.reserve"))
	require.NoError(t, err)
	assert.False(t, r3.Replayed)

	s := f.Snap()
	defer s.Close()
	crl, err := s.CRL(store.CRLScope{Issuer: "ca-idem"})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), crl.Reserved, "one reservation per organisation's key")
	n := 0
	require.NoError(t, s.AuditEvents(0, func(store.AuditEvent) error { n++; return nil }))
	assert.Equal(t, 2, n)
}

func testConcurrentCRLNumbers(t *testing.T, f *Fixture) {
	const workers, each = 8, 8
	scope := store.CRLScope{Issuer: "ca-conc", Shard: 3}
	got := make([][]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				r, err := f.S.Apply(context.Background(), &store.Batch{Commands: []store.Command{store.ReserveCRLNumber{Scope: scope}}})
				if !assert.NoError(t, err) {
					return
				}
				got[w] = append(got[w], r.Outputs[0].Number)
			}
		})
	}
	wg.Wait()
	var all []uint64
	for _, g := range got {
		assert.True(t, slices.IsSorted(g) && len(slices.Compact(slices.Clone(g))) == len(g), "each writer sees strictly increasing numbers: %v", g)
		all = append(all, g...)
	}
	slices.Sort(all)
	want := make([]uint64, workers*each)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	assert.Equal(t, want, all, "every number handed out once")
}

func testLeases(t *testing.T, f *Fixture) {
	ctx := context.Background()
	const contenders = 6
	var mu sync.Mutex
	var winners []store.LeaseToken
	var wg sync.WaitGroup
	for i := range contenders {
		wg.Go(func() {
			tok, _, err := f.S.Leases().Acquire(ctx, "crl-scope-1", fmt.Sprintf("worker-%d", i), time.Hour)
			if err != nil {
				assert.ErrorIs(t, err, store.ErrConflict)
				return
			}
			mu.Lock()
			winners = append(winners, tok)
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Len(t, winners, 1, "one lease winner per epoch")
	win := winners[0]
	assert.Equal(t, uint64(1), win.Epoch)

	// A fenced write under the live lease works.
	_, err := f.S.Apply(ctx, &store.Batch{Fence: &win, Commands: []store.Command{store.ReserveCRLNumber{Scope: store.CRLScope{Issuer: "ca-lease"}}}})
	require.NoError(t, err)
	// The holder re-acquiring keeps its epoch; renewal works.
	again, _, err := f.S.Leases().Acquire(ctx, "crl-scope-1", win.Holder, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, win, again)
	_, err = f.S.Leases().Renew(ctx, win, time.Hour)
	require.NoError(t, err)

	// Released, the lease passes to another holder with the next epoch; the
	// old holder's fenced writes and renewals now fail.
	require.NoError(t, f.S.Leases().Release(ctx, win))
	next, _, err := f.S.Leases().Acquire(ctx, "crl-scope-1", "worker-late", time.Hour)
	require.NoError(t, err)
	assert.Equal(t, win.Epoch+1, next.Epoch)
	_, err = f.S.Apply(ctx, &store.Batch{Fence: &win, Commands: []store.Command{store.ReserveCRLNumber{Scope: store.CRLScope{Issuer: "ca-lease"}}}})
	assert.ErrorIs(t, err, store.ErrLeaseLost)
	_, err = f.S.Leases().Renew(ctx, win, time.Hour)
	assert.ErrorIs(t, err, store.ErrLeaseLost)

	// An expired lease (a paused holder) cannot fence a write even when no
	// one else took it.
	short, _, err := f.S.Leases().Acquire(ctx, "sealer", "paused", time.Microsecond)
	require.NoError(t, err)
	_, err = f.S.Apply(ctx, &store.Batch{Fence: &short, Commands: []store.Command{store.SealAudit{Max: 1}}})
	assert.ErrorIs(t, err, store.ErrLeaseLost)
	s := f.Snap()
	defer s.Close()
	crl, err := s.CRL(store.CRLScope{Issuer: "ca-lease"})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), crl.Reserved, "only the fenced write under the live lease applied")
}

func testConcurrentStatusChanges(t *testing.T, f *Fixture) {
	org, op := f.Org()
	h := f.Holder("Luigi", "Verdi", "VRDLGU70A01F205X")
	o := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	p := f.Issue(o, f.Base, 0)
	_ = p
	type accepted struct {
		index    uint64
		from, to store.Status
		id       string
	}
	var mu sync.Mutex
	var ok []accepted
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 8 {
				from, to := store.StatusActive, store.StatusSuspended
				if (w+i)%2 == 1 {
					from, to = to, from
				}
				if w == 5 && i == 7 {
					from, to = store.StatusSuspended, store.StatusRevoked
				}
				c := f.Change(o.ID, from, to, f.Base.Add(time.Duration(w*10+i)*time.Second))
				c.Change.ID = fmt.Sprintf("cc-%d-%d", w, i)
				r, err := f.S.Apply(context.Background(), &store.Batch{Commands: []store.Command{c}})
				if err != nil {
					assert.ErrorIs(t, err, store.ErrConflict)
					continue
				}
				mu.Lock()
				ok = append(ok, accepted{r.Index, from, to, c.Change.ID})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(ok, func(a, b accepted) int { return int(a.index) - int(b.index) })
	// Replaying the accepted changes serially from active gives the stored end state.
	cur := store.StatusActive
	for _, a := range ok {
		require.Equal(t, cur, a.from, "accepted change %s did not start from the serial state", a.id)
		cur = a.to
	}
	s := f.Snap()
	defer s.Close()
	st, err := s.Status(o.ID)
	require.NoError(t, err)
	assert.Equal(t, cur, st.Status)
	hist, err := s.StatusChanges(o.ID)
	require.NoError(t, err)
	var ids []string
	for _, c := range hist {
		if len(c.ID) > 3 && c.ID[:3] == "cc-" {
			ids = append(ids, c.ID)
		}
	}
	var want []string
	for _, a := range ok {
		want = append(want, a.id)
	}
	assert.ElementsMatch(t, want, ids)
}

func testCRLAndPublication(t *testing.T, f *Fixture) {
	ctx := context.Background()
	org, op := f.Org()
	scope := store.CRLScope{Issuer: f.Issuer, Shard: 1}
	var products []store.Product
	var orders []store.Order
	for i := range 6 {
		h := f.Holder("Nome", fmt.Sprintf("Cognome%d", i), "TAX")
		o := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
		orders = append(orders, o)
		products = append(products, f.Issue(o, f.Base.Add(time.Duration(i)*time.Hour), 1))
	}
	t0 := f.Base.Add(10 * time.Hour)
	susp := f.Move(orders[0].ID, store.StatusActive, store.StatusSuspended, t0)
	_ = susp
	f.Move(orders[1].ID, store.StatusActive, store.StatusRevoked, t0.Add(time.Minute))
	f.Move(orders[2].ID, store.StatusActive, store.StatusSuspended, t0.Add(2*time.Minute))
	f.Move(orders[2].ID, store.StatusSuspended, store.StatusActive, t0.Add(3*time.Minute))
	f.Move(orders[3].ID, store.StatusActive, store.StatusSuspended, t0.Add(4*time.Minute))
	revokeHeld := f.Change(orders[3].ID, store.StatusSuspended, store.StatusRevoked, t0.Add(5*time.Minute))
	revokeHeld.Change.RevocationTime = t0.Add(4 * time.Minute) // dated back to the suspension
	revokeHeld.Change.ReasonCode = 4
	f.Apply(revokeHeld)

	s := f.Snap()
	defer s.Close()
	var got []store.CRLEntry
	require.NoError(t, s.CRLEntries(scope, t0.Add(time.Hour), func(e store.CRLEntry) error { got = append(got, e); return nil }))
	require.Len(t, got, 3)
	for i := 1; i < len(got); i++ {
		assert.Equal(t, -1, cmpSerial(got[i-1].Serial, got[i].Serial), "entries stream in serial order")
	}
	bySerial := map[string]store.CRLEntry{}
	for _, e := range got {
		bySerial[string(e.Serial)] = e
	}
	assert.Equal(t, int32(6), bySerial[string(products[0].Certificates[0].Serial)].ReasonCode)
	assert.Equal(t, int32(1), bySerial[string(products[1].Certificates[0].Serial)].ReasonCode)
	assert.Equal(t, int32(4), bySerial[string(products[3].Certificates[0].Serial)].ReasonCode)
	assert.True(t, bySerial[string(products[3].Certificates[0].Serial)].RevocationTime.Equal(t0.Add(4*time.Minute)))
	// The cutoff leaves out later revocations.
	var early []store.CRLEntry
	require.NoError(t, s.CRLEntries(scope, t0, func(e store.CRLEntry) error { early = append(early, e); return nil }))
	require.Len(t, early, 1)
	// fn's error stops the stream.
	stop := errors.New("stop")
	assert.ErrorIs(t, s.CRLEntries(scope, t0.Add(time.Hour), func(store.CRLEntry) error { return stop }), stop)

	// Due status changes, earliest deadline first.
	due, err := s.DueStatusChanges(t0.Add(24*time.Hour+2*time.Minute), 100)
	require.NoError(t, err)
	require.Len(t, due, 3)
	for i := 1; i < len(due); i++ {
		assert.False(t, due[i].Deadline.Before(due[i-1].Deadline))
	}
	all, err := s.DueStatusChanges(t0.Add(48*time.Hour), 100)
	require.NoError(t, err)
	require.Len(t, all, 6)

	// Reserve, publish; the pointer only moves up; publication empties the queue.
	n1 := f.Apply(store.ReserveCRLNumber{Scope: scope}).Outputs[0].Number
	n2 := f.Apply(store.ReserveCRLNumber{Scope: scope}).Outputs[0].Number
	require.Equal(t, n1+1, n2)
	var ids []string
	for _, c := range all {
		ids = append(ids, c.ID)
	}
	f.Apply(store.PublishCRL{Scope: scope, Number: n2, ThisUpdate: t0, NextUpdate: t0.Add(24 * time.Hour), CRLBlob: BlobHash("crl2"), Changes: ids},
		store.PutReceipt{Receipt: store.Receipt{ID: "rcpt-1", Issuer: scope.Issuer, Shard: scope.Shard, CRLNumber: n2, Sink: "dir", PublishedAt: t0}})
	_, err = f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.PublishCRL{Scope: scope, Number: n1, ThisUpdate: t0, CRLBlob: BlobHash("crl1")}}})
	IsConflict(t, err)
	_, err = f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.PublishCRL{Scope: scope, Number: n2 + 5, ThisUpdate: t0, CRLBlob: BlobHash("crl9")}}})
	IsConflict(t, err)

	s2 := f.Snap()
	defer s2.Close()
	crl, err := s2.CRL(scope)
	require.NoError(t, err)
	assert.Equal(t, n2, crl.Number)
	assert.Equal(t, BlobHash("crl2"), crl.CRLBlob)
	left, err := s2.DueStatusChanges(t0.Add(48*time.Hour), 100)
	require.NoError(t, err)
	assert.Empty(t, left)
	c0, err := s2.StatusChange(all[0].ID)
	require.NoError(t, err)
	assert.Equal(t, n2, c0.CRLNumber)
	assert.False(t, c0.PublishedAt.IsZero())
	rc, err := s2.Receipt("rcpt-1")
	require.NoError(t, err)
	assert.Equal(t, n2, rc.CRLNumber)
}

func cmpSerial(a, b []byte) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return bytes.Compare(a, b)
}

func testIntents(t *testing.T, f *Fixture) {
	ctx := context.Background()
	org, op := f.Org()
	h := f.Holder("Gino", "Neri", "NRIGNI80A01H501Z")
	o := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	o2 := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	f.Move(o.ID, store.StatusToIdentify, store.StatusToIssue, f.Base)
	s1, s2 := f.Serial(), f.Serial()
	f.Apply(
		store.PrepareIntent{Intent: store.IntentRecord{ID: "sig", OrgID: org, OrderID: o.ID, Issuer: "ca", Serial: s1, CreatedAt: f.Base}},
		store.PrepareIntent{Intent: store.IntentRecord{ID: "auth", OrgID: org, OrderID: o.ID, Issuer: "ca", Serial: s2, CreatedAt: f.Base.Add(time.Second)}},
		store.PrepareIntent{Intent: store.IntentRecord{ID: "lost", OrgID: org, OrderID: o2.ID, Issuer: "ca", Serial: f.Serial(), CreatedAt: f.Base.Add(2 * time.Second)}},
	)
	open := func() []string {
		s := f.Snap()
		defer s.Close()
		var ids []string
		require.NoError(t, s.OpenIntents(func(in store.IntentRecord) error { ids = append(ids, in.ID); return nil }))
		return ids
	}
	assert.Equal(t, []string{"sig", "auth", "lost"}, open())

	cert := func(serial []byte) store.Certificate {
		return store.Certificate{Issuer: "ca", Serial: serial, NotBefore: f.Base, NotAfter: f.Base.AddDate(1, 0, 0), CertificateBlob: BlobHash("c")}
	}
	// A product whose certificate has no intent is refused.
	_, err := f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.CompleteIntent{Product: store.Product{ID: "p-bad", OrgID: org,
		OrderID: o.ID, HolderID: h.ID, ProductType: "x", IssuedAt: f.Base, Certificates: []store.Certificate{cert(s1), cert(f.Serial())}}}}})
	IsConflict(t, err)
	// Two certificates of an on-device product complete two intents at once.
	f.Apply(store.CompleteIntent{Product: store.Product{ID: "p-dev", OrgID: org, OrderID: o.ID, HolderID: h.ID, ProductType: "x",
		IssuedAt: f.Base, Certificates: []store.Certificate{cert(s1), cert(s2)}}})
	f.Apply(store.AbandonIntent{IntentID: "lost", Reason: "key never signed"})
	assert.Empty(t, open())
	_, err = f.S.Apply(ctx, &store.Batch{Commands: []store.Command{store.AbandonIntent{IntentID: "lost", Reason: "again"}}})
	IsConflict(t, err)
	s := f.Snap()
	defer s.Close()
	in, err := s.Intent("auth")
	require.NoError(t, err)
	assert.Equal(t, store.IntentCompleted, in.State)
	assert.Equal(t, "p-dev", in.ProductID)
	p, err := s.ProductBySerial("ca", s2)
	require.NoError(t, err)
	assert.Equal(t, "p-dev", p.ID)
}

func testAuditChain(t *testing.T, f *Fixture) {
	ctx := context.Background()
	org, _ := f.Org()
	for i := range 20 {
		f.Apply(store.AppendAudit{Event: store.AuditEvent{OrgID: org, At: f.Base.Add(time.Duration(i) * time.Second),
			ActorID: "op-1", Action: "order.update", Subject: fmt.Sprintf("ord-%d", i), Details: fmt.Sprintf(`{"n":%d}`, i)}})
		if i%7 == 6 {
			f.Apply(store.SealAudit{Max: 5})
		}
	}
	for {
		r := f.Apply(store.SealAudit{Max: 7})
		if r.Outputs[0].Number == 20 {
			break
		}
	}
	// Two more events, appended after the seal, stay unsealed but valid.
	f.Apply(store.AppendAudit{Event: store.AuditEvent{OrgID: org, At: f.Base, Action: "late"}},
		store.AppendAudit{Event: store.AuditEvent{OrgID: org, At: f.Base, Action: "later"}})
	s := f.Snap()
	defer s.Close()
	require.NoError(t, s.VerifyAudit())
	var events []store.AuditEvent
	require.NoError(t, s.AuditEvents(1, func(e store.AuditEvent) error { events = append(events, e); return nil }))
	require.Len(t, events, 22)
	for i, e := range events {
		require.Equal(t, uint64(i+1), e.Seq)
	}
	require.NoError(t, store.VerifyAuditChain(slices.Values(events)))

	firstBad := func(evs []store.AuditEvent) uint64 {
		err := store.VerifyAuditChain(slices.Values(evs))
		var ce *store.AuditChainError
		require.ErrorAs(t, err, &ce)
		assert.ErrorIs(t, err, store.ErrCorrupt)
		return ce.Seq
	}
	edited := slices.Clone(events)
	edited[4].Details = `{"n":999}`
	assert.Equal(t, uint64(5), firstBad(edited))
	deleted := slices.Delete(slices.Clone(events), 7, 8)
	assert.Equal(t, uint64(8), firstBad(deleted))
	swapped := slices.Clone(events)
	swapped[10], swapped[11] = swapped[11], swapped[10]
	assert.Equal(t, uint64(11), firstBad(swapped))
	// Swapping contents but keeping the numbers in order is caught by the hashes.
	renumbered := slices.Clone(events)
	renumbered[10], renumbered[11] = renumbered[11], renumbered[10]
	renumbered[10].Seq, renumbered[11].Seq = 11, 12
	assert.Equal(t, uint64(11), firstBad(renumbered))
	_ = ctx
}

// counts is a cheap fingerprint of a store's visible state.
func fingerprint(t testing.TB, s store.Store) uint64 {
	snap, err := s.Snapshot(context.Background())
	require.NoError(t, err)
	defer snap.Close()
	return snap.Index()
}
