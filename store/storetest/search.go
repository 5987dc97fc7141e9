package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
)

// row is one searchable order as the oracle sees it.
type row struct {
	o  store.Order
	st store.StatusRecord
	h  store.HolderIdentity
}

// seedSearch fills two organisations with random orders. Names, tax codes,
// nicknames and dates repeat on purpose, so filters match several rows and
// sort ties happen.
func seedSearch(t *testing.T, f *Fixture, rng *rand.Rand, orders int) (string, []row) {
	org, op := f.Org()
	other, otherOp := f.Org()
	ops := []string{op, f.Operator(org), f.Operator(org)}
	first := []string{"Mario", "Anna", "NICOLÒ", "Giulia", "Luca"}
	last := []string{"Rossi", "D'ANNUNZIO", "Bianchi", "Esposito"}
	var holders []store.HolderIdentity
	for i := range 30 {
		h := store.HolderIdentity{ID: f.ID("h"), TaxCode: fmt.Sprintf("TAX%02d", rng.IntN(12)),
			FirstName: first[rng.IntN(len(first))], Surname: last[rng.IntN(len(last))]}
		if i%3 != 0 {
			h.UserID, h.Email, h.Mobile, h.IUT = "u"+h.ID, h.ID+"@Example.it", fmt.Sprintf("+39%07d", i), "IUT"+h.ID
		}
		f.Apply(store.PutHolder{Holder: h})
		holders = append(holders, h)
	}
	types := []string{"firma-remota", "firma-dispositivo", "ruolo"}
	nicks := []string{"", "", "ufficio", "casa", "Firma Principale"}
	devs := []string{"", "", "", "DEV-1", "dev-2"}
	at := func() time.Time { return f.Base.Add(time.Duration(rng.IntN(20*24)) * time.Hour) } // hour granularity: ties
	for i := range orders {
		orgID, opID := org, ops[rng.IntN(len(ops))]
		if i%6 == 5 {
			orgID, opID = other, otherOp
		}
		o := store.Order{ID: f.ID("ord"), OrgID: orgID, OperatorID: opID, HolderID: holders[rng.IntN(len(holders))].ID,
			ProductType: types[rng.IntN(len(types))], Nickname: nicks[rng.IntN(len(nicks))],
			DeviceSerial: devs[rng.IntN(len(devs))], CreatedAt: at()}
		if rng.IntN(3) > 0 {
			o.ExternalCode = "EXT-" + o.ID
		}
		cmds := []store.Command{store.PutOrder{Order: o, InitialStatus: store.StatusToIdentify}}
		path := [][2]store.Status{{store.StatusToIdentify, store.StatusToIssue}, {store.StatusToIssue, store.StatusActive}}
		switch rng.IntN(4) {
		case 1:
			path = append(path, [2]store.Status{store.StatusActive, store.StatusSuspended})
		case 2:
			path = append(path, [2]store.Status{store.StatusActive, store.StatusRevoked})
		case 3:
			path = append(path, [2]store.Status{store.StatusActive, store.StatusExpired})
		}
		steps := rng.IntN(len(path) + 2)
		if steps > len(path) {
			steps = len(path)
		}
		when := o.CreatedAt
		for _, s := range path[:steps] {
			when = when.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
			cmds = append(cmds, f.Change(o.ID, s[0], s[1], when))
		}
		if steps == 0 && rng.IntN(4) == 0 {
			cmds = append(cmds, f.Change(o.ID, store.StatusToIdentify, store.StatusDeleted, when))
		}
		f.Apply(cmds...)
	}
	return org, loadRows(t, f)
}

// loadRows reads every order of every organisation the fixture made.
func loadRows(t *testing.T, f *Fixture) []row {
	s := f.Snap()
	defer s.Close()
	var rows []row
	for i := 1; i <= f.count(); i++ {
		o, err := s.Order(fmt.Sprintf("%sord-%d", f.Prefix, i))
		if err != nil {
			continue
		}
		st, err := s.Status(o.ID)
		require.NoError(t, err)
		h, err := s.Holder(o.HolderID)
		require.NoError(t, err)
		rows = append(rows, row{o, st, h})
	}
	return rows
}

// oracle is the brute-force search: filter every row, sort newest first.
func oracle(q store.SearchQuery, rows []row) []string {
	eq := func(filter, v string) bool { return filter == "" || strings.ToUpper(filter) == strings.ToUpper(v) }
	byAct := !q.ActivatedFrom.IsZero() || !q.ActivatedTo.IsZero()
	var hits []row
	for _, r := range rows {
		o, st, h := r.o, r.st, r.h
		if o.OrgID != q.Org || q.OrderID != "" && o.ID != q.OrderID || q.UserID != "" && h.UserID == "" ||
			!eq(q.UserID, h.UserID) || !eq(q.ExternalCode, o.ExternalCode) || q.Status != "" && q.Status != st.Status ||
			!eq(q.Nickname, o.Nickname) || !eq(q.ProductType, o.ProductType) || !eq(q.TaxCode, h.TaxCode) ||
			!eq(q.FirstName, h.FirstName) || !eq(q.Surname, h.Surname) || !eq(q.Email, h.Email) ||
			!eq(q.Mobile, h.Mobile) || q.OperatorID != "" && q.OperatorID != o.OperatorID || !eq(q.IUT, h.IUT) ||
			!eq(q.DeviceSerial, o.DeviceSerial) {
			continue
		}
		if byAct && (st.ActivatedAt.IsZero() || !q.ActivatedFrom.IsZero() && st.ActivatedAt.Before(q.ActivatedFrom) ||
			!q.ActivatedTo.IsZero() && st.ActivatedAt.After(q.ActivatedTo)) {
			continue
		}
		if !q.InputFrom.IsZero() && o.CreatedAt.Before(q.InputFrom) || !q.InputTo.IsZero() && o.CreatedAt.After(q.InputTo) {
			continue
		}
		hits = append(hits, r)
	}
	key := func(r row) time.Time {
		if byAct {
			return r.st.ActivatedAt
		}
		return r.o.CreatedAt
	}
	slices.SortFunc(hits, func(a, b row) int {
		if c := key(b).Compare(key(a)); c != 0 {
			return c
		}
		return strings.Compare(b.o.ID, a.o.ID)
	})
	ids := []string{}
	for _, h := range hits {
		ids = append(ids, h.o.ID)
	}
	return ids
}

// searchAll pages through a whole search and returns the order IDs.
func searchAll(t *testing.T, s store.Store, q store.SearchQuery, pageSize int) []string {
	t.Helper()
	q.Limit = pageSize
	ids := []string{}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10000, "paging does not end")
		snap, err := s.Snapshot(context.Background())
		require.NoError(t, err)
		p, err := snap.Search(q)
		snap.Close()
		require.NoError(t, err, "query %+v", q)
		require.LessOrEqual(t, len(p.Hits), pageSize)
		for _, h := range p.Hits {
			require.Equal(t, h.Order.ID, h.Status.OrderID)
			require.Equal(t, h.Order.HolderID, h.Holder.ID)
			ids = append(ids, h.Order.ID)
		}
		if p.Next == "" {
			return ids
		}
		q.Cursor = p.Next
	}
}

// filters lists every single filter of DESIGN.md, each set from a row.
func filters(r row, rng *rand.Rand) []func(*store.SearchQuery) {
	act := r.st.ActivatedAt
	if act.IsZero() {
		act = r.o.CreatedAt
	}
	span := time.Duration(1+rng.IntN(10*24)) * time.Hour
	mixed := func(s string) string {
		if rng.IntN(2) == 0 {
			return strings.ToLower(s)
		}
		return s
	}
	return []func(*store.SearchQuery){
		func(q *store.SearchQuery) { q.OrderID = r.o.ID },
		func(q *store.SearchQuery) { q.UserID = r.h.UserID },
		func(q *store.SearchQuery) { q.ExternalCode = mixed(r.o.ExternalCode) },
		func(q *store.SearchQuery) { q.Status = r.st.Status },
		func(q *store.SearchQuery) { q.Nickname = mixed(r.o.Nickname) },
		func(q *store.SearchQuery) { q.ActivatedFrom, q.ActivatedTo = act.Add(-span), act.Add(span) },
		func(q *store.SearchQuery) { q.ActivatedFrom = act },
		func(q *store.SearchQuery) { q.ActivatedTo = act },
		func(q *store.SearchQuery) { q.InputFrom, q.InputTo = r.o.CreatedAt.Add(-span), r.o.CreatedAt.Add(span) },
		func(q *store.SearchQuery) { q.InputTo = r.o.CreatedAt },
		func(q *store.SearchQuery) { q.ProductType = r.o.ProductType },
		func(q *store.SearchQuery) { q.TaxCode = mixed(r.h.TaxCode) },
		func(q *store.SearchQuery) { q.FirstName = mixed(r.h.FirstName) },
		func(q *store.SearchQuery) { q.Surname = mixed(r.h.Surname) },
		func(q *store.SearchQuery) { q.Email = mixed(r.h.Email) },
		func(q *store.SearchQuery) { q.Mobile = r.h.Mobile },
		func(q *store.SearchQuery) { q.OperatorID = r.o.OperatorID },
		func(q *store.SearchQuery) { q.IUT = r.h.IUT },
		func(q *store.SearchQuery) { q.DeviceSerial = mixed(r.o.DeviceSerial) },
	}
}

func testSearchOracle(t *testing.T, f *Fixture) {
	rng := rand.New(rand.NewPCG(4, 2))
	org, rows := seedSearch(t, f, rng, 240)
	check := func(q store.SearchQuery) {
		t.Helper()
		want := oracle(q, rows)
		got := searchAll(t, f.S, q, 1+rng.IntN(25))
		require.Equal(t, want, got, "query %+v", q)
	}
	check(store.SearchQuery{Org: org})
	for _, s := range store.Statuses() {
		check(store.SearchQuery{Org: org, Status: s})
	}
	for range 25 {
		r := rows[rng.IntN(len(rows))]
		for _, set := range filters(r, rng) {
			q := store.SearchQuery{Org: org}
			set(&q)
			check(q)
		}
	}
	for range 300 {
		r := rows[rng.IntN(len(rows))]
		fs := filters(r, rng)
		q := store.SearchQuery{Org: org}
		for range 1 + rng.IntN(3) {
			fs[rng.IntN(len(fs))](&q)
		}
		if rng.IntN(4) == 0 { // sometimes from another row: usually no match
			filters(rows[rng.IntN(len(rows))], rng)[rng.IntN(len(fs))](&q)
		}
		check(q)
	}
	// Another organisation's rows never show.
	snap := f.Snap()
	defer snap.Close()
	for _, r := range rows {
		if r.o.OrgID != org {
			p, err := snap.Search(store.SearchQuery{Org: org, OrderID: r.o.ID})
			require.NoError(t, err)
			assert.Empty(t, p.Hits)
			break
		}
	}
}

func testPagingDuringInserts(t *testing.T, f *Fixture) {
	rng := rand.New(rand.NewPCG(7, 7))
	org, rows := seedSearch(t, f, rng, 90)
	for qi, q := range []store.SearchQuery{{Org: org}, {Org: org, Status: store.StatusActive},
		{Org: org, ActivatedFrom: f.Base}} {
		initial := oracle(q, rows)
		op := rows[0].o.OperatorID
		if rows[0].o.OrgID != org {
			op = rows[1].o.OperatorID
		}
		holder := rows[0].h.ID
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				at := f.Base.Add(time.Duration(i*37%(25*24)) * time.Hour)
				o := store.Order{ID: fmt.Sprintf("ins-%d-%d", qi, i), OrgID: org, OperatorID: op, HolderID: holder,
					ProductType: "firma-remota", CreatedAt: at}
				cmds := []store.Command{store.PutOrder{Order: o, InitialStatus: store.StatusToIdentify},
					store.ChangeStatus{Change: store.StatusChange{ID: "c1-" + o.ID, OrderID: o.ID, From: store.StatusToIdentify, To: store.StatusToIssue, At: at, ReasonCode: -1}},
					store.ChangeStatus{Change: store.StatusChange{ID: "c2-" + o.ID, OrderID: o.ID, From: store.StatusToIssue, To: store.StatusActive, At: at, ReasonCode: -1}, ActivatedAt: at}}
				_, err := f.S.Apply(context.Background(), &store.Batch{Commands: cmds})
				if !assert.NoError(t, err) {
					return
				}
			}
		})
		got := searchAll(t, f.S, q, 7)
		close(stop)
		wg.Wait()
		seen := map[string]bool{}
		for _, id := range got {
			require.False(t, seen[id], "row %s returned twice", id)
			seen[id] = true
		}
		for _, id := range initial {
			require.True(t, seen[id], "row %s missing", id)
		}
	}
}

func testPersonalData(t *testing.T, f *Fixture) {
	org, op := f.Org()
	h := f.Holder("Giulia", "Rossi", "RSSGLI90A41H501X")
	o := f.Order(OrderSpec{Org: org, Operator: op, Holder: h.ID})
	snap := f.Snap()
	defer snap.Close()
	for _, q := range []store.SearchQuery{
		{Org: org, PersonalData: true},
		{Org: org, PersonalData: true, Surname: "Rossi"},
		{Org: org, PersonalData: true, Surname: "Rossi", FirstName: "Giulia"},
	} {
		_, err := snap.Search(q)
		var fe *store.FieldError
		require.ErrorAs(t, err, &fe)
		assert.ErrorIs(t, err, store.ErrInvalidInput)
		assert.Equal(t, "query", fe.Field)
		assert.Contains(t, err.Error(), "at least 3")
	}
	p, err := snap.Search(store.SearchQuery{Org: org, PersonalData: true, Surname: "ROSSI", FirstName: "giulia", TaxCode: h.TaxCode})
	require.NoError(t, err)
	require.Len(t, p.Hits, 1)
	assert.Equal(t, o.ID, p.Hits[0].Order.ID)
}
