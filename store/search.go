package store

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// SearchQuery is a search over an organisation's orders and their products
// (DESIGN.md "Search"). Every set filter must match; text filters match the
// whole value, case-insensitively (see [Fold]). Results come newest first,
// ties broken by descending order ID: by activation date when an activation
// range is given (only activated orders then match), by input date
// otherwise. Every filter is served by an index.
type SearchQuery struct {
	// Org is required: an operator only ever sees their organisation.
	Org string
	// PersonalData selects "search by personal data", which refuses fewer
	// than three filters.
	PersonalData bool

	OrderID       string
	UserID        string
	ExternalCode  string
	Status        Status
	Nickname      string
	ActivatedFrom time.Time // inclusive; with ActivatedTo one filter
	ActivatedTo   time.Time // inclusive
	InputFrom     time.Time // inclusive; with InputTo one filter
	InputTo       time.Time // inclusive
	ProductType   string
	TaxCode       string
	FirstName     string
	Surname       string
	Email         string
	Mobile        string
	OperatorID    string
	IUT           string
	DeviceSerial  string

	// Limit is the page size, 1-1000; zero means 50.
	Limit int
	// Cursor continues a search from SearchPage.Next (keyset paging: rows
	// inserted meanwhile never make a row appear twice or go missing).
	Cursor string
}

// SearchHit is one result: an order, its status and its holder.
type SearchHit struct {
	Order  Order
	Status StatusRecord
	Holder HolderIdentity
}

// SearchPage is one page of results. Next is empty on the last page.
type SearchPage struct {
	Hits []SearchHit
	Next string
}

// Search limits.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 1000
	// MinPersonalDataFilters is the least number of filters of a search by
	// personal data (DESIGN.md "Search").
	MinPersonalDataFilters = 3
)

// byActivation reports whether results sort by activation date.
func (q *SearchQuery) byActivation() bool {
	return !q.ActivatedFrom.IsZero() || !q.ActivatedTo.IsZero()
}

// Filters returns how many filters are set; each date range counts once.
func (q *SearchQuery) Filters() int {
	n := 0
	for _, s := range []string{q.OrderID, q.UserID, q.ExternalCode, string(q.Status), q.Nickname, q.ProductType,
		q.TaxCode, q.FirstName, q.Surname, q.Email, q.Mobile, q.OperatorID, q.IUT, q.DeviceSerial} {
		if s != "" {
			n++
		}
	}
	if q.byActivation() {
		n++
	}
	if !q.InputFrom.IsZero() || !q.InputTo.IsZero() {
		n++
	}
	return n
}

// cursor is a decoded keyset position.
type cursor struct {
	mode byte // 'a' activation, 'i' input date
	at   time.Time
	id   string
}

func (c cursor) encode() string {
	b := []byte{c.mode}
	b = binary.BigEndian.AppendUint64(b, uint64(c.at.UnixMicro()))
	b = append(b, c.id...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, mode byte) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 10 || b[0] != mode {
		return nil, fieldErr("query.cursor", "is not a cursor of this search")
	}
	c := &cursor{mode: b[0], at: time.UnixMicro(int64(binary.BigEndian.Uint64(b[1:9]))).UTC(), id: string(b[9:])}
	ck := &checker{}
	ck.id("query.cursor", c.id, true)
	if ck.err != nil {
		return nil, fieldErr("query.cursor", "is not a cursor of this search")
	}
	return c, nil
}

// validate checks q and returns a normalised copy.
func (q SearchQuery) validate() (*SearchQuery, *cursor, error) {
	c := &checker{path: "query."}
	c.id("org", q.Org, true)
	c.id("order_id", q.OrderID, false)
	c.id("user_id", q.UserID, false)
	c.id("operator_id", q.OperatorID, false)
	c.status("status", q.Status, false)
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"external_code", q.ExternalCode, MaxIndexedLen}, {"nickname", q.Nickname, MaxNameLen},
		{"product_type", q.ProductType, MaxNameLen}, {"tax_code", q.TaxCode, 32},
		{"first_name", q.FirstName, MaxNameLen}, {"surname", q.Surname, MaxNameLen},
		{"email", q.Email, 254}, {"mobile", q.Mobile, 32}, {"iut", q.IUT, MaxIDLen},
		{"device_serial", q.DeviceSerial, MaxNameLen},
	} {
		c.text(f.name, f.v, f.max, false)
	}
	c.time("activated_from", &q.ActivatedFrom, false)
	c.time("activated_to", &q.ActivatedTo, false)
	c.time("input_from", &q.InputFrom, false)
	c.time("input_to", &q.InputTo, false)
	if q.Limit < 0 || q.Limit > MaxSearchLimit {
		c.fail("limit", fmt.Sprintf("must be 0-%d", MaxSearchLimit))
	}
	if c.err != nil {
		return nil, nil, c.err
	}
	if q.PersonalData && q.Filters() < MinPersonalDataFilters {
		return nil, nil, fieldErr("query", fmt.Sprintf("a search by personal data needs at least %d parameters, got %d",
			MinPersonalDataFilters, q.Filters()))
	}
	if q.Limit == 0 {
		q.Limit = DefaultSearchLimit
	}
	var cur *cursor
	if q.Cursor != "" {
		mode := byte('i')
		if q.byActivation() {
			mode = 'a'
		}
		var err error
		if cur, err = decodeCursor(q.Cursor, mode); err != nil {
			return nil, nil, err
		}
	}
	return &q, cur, nil
}

// sortKey returns the position of a hit in the result order.
func (q *SearchQuery) sortKey(o *Order, st *StatusRecord) (time.Time, string) {
	if q.byActivation() {
		return st.ActivatedAt, o.ID
	}
	return o.CreatedAt, o.ID
}

// before reports whether (t1, id1) comes after (t2, id2) in the newest
// first order, i.e. is strictly older.
func before(t1 time.Time, id1 string, t2 time.Time, id2 string) bool {
	if !t1.Equal(t2) {
		return t1.Before(t2)
	}
	return id1 < id2
}

// Matches reports whether an order, its status and its holder satisfy
// every filter of q (the brute-force definition the indexes must agree
// with).
func (q *SearchQuery) Matches(o *Order, st *StatusRecord, h *HolderIdentity) bool {
	eq := func(filter, v string) bool { return filter == "" || Fold(filter) == Fold(v) }
	switch {
	case o.OrgID != q.Org,
		q.OrderID != "" && q.OrderID != o.ID,
		q.UserID != "" && (h.UserID == "" || !eq(q.UserID, h.UserID)),
		!eq(q.ExternalCode, o.ExternalCode),
		q.Status != "" && q.Status != st.Status,
		!eq(q.Nickname, o.Nickname),
		!eq(q.ProductType, o.ProductType),
		!eq(q.TaxCode, h.TaxCode),
		!eq(q.FirstName, h.FirstName),
		!eq(q.Surname, h.Surname),
		!eq(q.Email, h.Email),
		!eq(q.Mobile, h.Mobile),
		q.OperatorID != "" && q.OperatorID != o.OperatorID,
		!eq(q.IUT, h.IUT),
		!eq(q.DeviceSerial, o.DeviceSerial):
		return false
	}
	if q.byActivation() {
		if st.ActivatedAt.IsZero() ||
			!q.ActivatedFrom.IsZero() && st.ActivatedAt.Before(q.ActivatedFrom) ||
			!q.ActivatedTo.IsZero() && st.ActivatedAt.After(q.ActivatedTo) {
			return false
		}
	}
	if !q.InputFrom.IsZero() && o.CreatedAt.Before(q.InputFrom) || !q.InputTo.IsZero() && o.CreatedAt.After(q.InputTo) {
		return false
	}
	return true
}

// search plans and runs q on txn. Selective filters (IDs, codes, holder
// data, nickname, device serial) drive through their index and sort the few
// candidates; otherwise an index ordered like the results streams newest
// first and stops after one page.
func search(txn *dbTxn, q0 SearchQuery) (*SearchPage, error) {
	q, cur, err := q0.validate()
	if err != nil {
		return nil, err
	}
	r := &runner{txn: txn, q: q, cur: cur, holders: make(map[string]*HolderIdentity, min(q.Limit+1, 64)),
		hits: make([]SearchHit, 0, min(q.Limit+1, 64))}
	ids, selective, err := r.selectiveCandidates()
	if err != nil {
		return nil, err
	}
	if selective {
		return r.sortedPage(ids)
	}
	return r.streamPage()
}

type runner struct {
	txn     *dbTxn
	q       *SearchQuery
	cur     *cursor
	holders map[string]*HolderIdentity
	hits    []SearchHit
}

func (r *runner) holder(id string) (*HolderIdentity, error) {
	if h, ok := r.holders[id]; ok {
		return h, nil
	}
	h, err := first[HolderIdentity](r.txn, tableHolders, indexID, newKey().str(id))
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("%w: order references missing holder %q", ErrCorrupt, id)
	}
	r.holders[id] = h
	return h, nil
}

// scanPrefix calls fn for each object whose index key starts with prefix.
func scanPrefix(txn *dbTxn, table, index string, prefix key, fn func(any) error) error {
	it, err := txn.Get(table, index, prefix)
	if err != nil {
		return fmt.Errorf("store: reading %s: %w", table, err)
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if err := fn(raw); err != nil {
			return err
		}
	}
	return nil
}

// selectiveCandidates returns the order IDs of the most selective filter
// set, or false when no selective filter is set.
func (r *runner) selectiveCandidates() ([]string, bool, error) {
	q := r.q
	switch {
	case q.OrderID != "":
		return []string{q.OrderID}, true, nil
	case q.ExternalCode != "":
		o, err := first[Order](r.txn, tableOrders, indexOrgExternal, newKey().str(q.Org).fold(q.ExternalCode))
		if err != nil || o == nil {
			return nil, true, err
		}
		return []string{o.ID}, true, nil
	case q.DeviceSerial != "" || q.Nickname != "":
		ix, v := indexOrgDevice, q.DeviceSerial
		if v == "" {
			ix, v = indexOrgNickname, q.Nickname
		}
		var ids []string
		err := scanPrefix(r.txn, tableOrders, ix, newKey().str(q.Org).fold(v), func(raw any) error {
			ids = append(ids, raw.(*Order).ID)
			return nil
		})
		return ids, true, err
	}
	var holderIx string
	var prefix key
	switch {
	case q.UserID != "":
		holderIx, prefix = indexUserID, newKey().fold(q.UserID)
	case q.Email != "":
		holderIx, prefix = indexEmail, newKey().fold(q.Email)
	case q.Mobile != "":
		holderIx, prefix = indexMobile, newKey().fold(q.Mobile)
	case q.IUT != "":
		holderIx, prefix = indexIUT, newKey().fold(q.IUT)
	case q.TaxCode != "":
		holderIx, prefix = indexTaxCode, newKey().fold(q.TaxCode)
	case q.Surname != "" && q.FirstName != "":
		holderIx, prefix = indexSurname, newKey().fold(q.Surname).fold(q.FirstName)
	case q.Surname != "":
		holderIx, prefix = indexSurname, newKey().fold(q.Surname)
	case q.FirstName != "":
		holderIx, prefix = indexFirstName, newKey().fold(q.FirstName)
	default:
		return nil, false, nil
	}
	var holders []string
	if err := scanPrefix(r.txn, tableHolders, holderIx, prefix, func(raw any) error {
		holders = append(holders, raw.(*HolderIdentity).ID)
		return nil
	}); err != nil {
		return nil, true, err
	}
	var ids []string
	for _, h := range holders {
		if err := scanPrefix(r.txn, tableOrders, indexHolder, newKey().str(h), func(raw any) error {
			if o := raw.(*Order); o.OrgID == q.Org {
				ids = append(ids, o.ID)
			}
			return nil
		}); err != nil {
			return nil, true, err
		}
	}
	return ids, true, nil
}

// consider checks one candidate and appends it when it matches and lies
// after the cursor.
func (r *runner) consider(o *Order, st *StatusRecord) error {
	if o == nil || st == nil {
		return nil
	}
	if r.cur != nil {
		t, id := r.q.sortKey(o, st)
		if !before(t, id, r.cur.at, r.cur.id) {
			return nil
		}
	}
	h, err := r.holder(o.HolderID)
	if err != nil {
		return err
	}
	if !r.q.Matches(o, st, h) {
		return nil
	}
	r.hits = append(r.hits, SearchHit{Order: cloneOrder(o), Status: *st, Holder: *h})
	return nil
}

func (r *runner) load(id string) (*Order, *StatusRecord, error) {
	o, err := first[Order](r.txn, tableOrders, indexID, newKey().str(id))
	if err != nil || o == nil {
		return nil, nil, err
	}
	st, err := first[StatusRecord](r.txn, tableStatuses, indexID, newKey().str(id))
	if err != nil {
		return nil, nil, err
	}
	return o, st, nil
}

func (r *runner) sortedPage(ids []string) (*SearchPage, error) {
	for _, id := range ids {
		o, st, err := r.load(id)
		if err != nil {
			return nil, err
		}
		if err := r.consider(o, st); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(r.hits, func(a, b SearchHit) int {
		ta, ia := r.q.sortKey(&a.Order, &a.Status)
		tb, ib := r.q.sortKey(&b.Order, &b.Status)
		switch {
		case before(tb, ib, ta, ia):
			return -1
		case before(ta, ia, tb, ib):
			return 1
		}
		return 0
	})
	return r.page(), nil
}

func (r *runner) page() *SearchPage {
	p := &SearchPage{Hits: r.hits}
	if len(r.hits) > r.q.Limit {
		p.Hits = r.hits[:r.q.Limit]
		last := p.Hits[len(p.Hits)-1]
		t, id := r.q.sortKey(&last.Order, &last.Status)
		mode := byte('i')
		if r.q.byActivation() {
			mode = 'a'
		}
		p.Next = cursor{mode: mode, at: t, id: id}.encode()
	}
	if p.Hits == nil {
		p.Hits = []SearchHit{}
	}
	return p
}

// stream walks one index newest first: prefix selects the index range, the
// time that follows it in the key is the sort time.
type stream struct {
	it   *iterator
	next any
}

// startKey returns where a newest-first walk of prefix begins: at the cursor
// or the upper time bound, else past the prefix's last key.
func (r *runner) startKey(prefix key, upper time.Time) key {
	switch {
	case r.cur != nil && (upper.IsZero() || !upper.Before(r.cur.at)):
		return append(append(key(nil), prefix...), newKey().time(r.cur.at).str(r.cur.id)...)
	case !upper.IsZero():
		return append(append(key(nil), prefix...), newKey().time(upper)...).upper()
	}
	return prefix.upper()
}

func (r *runner) open(table, index string, prefix key, upper time.Time) (*stream, error) {
	it, err := r.txn.ReverseLowerBound(table, index, r.startKey(prefix, upper))
	if err != nil {
		return nil, fmt.Errorf("store: reading %s: %w", table, err)
	}
	return &stream{it: it, next: it.Next()}, nil
}

func (r *runner) streamPage() (*SearchPage, error) {
	q := r.q
	want := q.Limit + 1
	if q.byActivation() {
		statuses := Statuses()
		if q.Status != "" {
			statuses = []Status{q.Status}
		}
		var streams []*stream
		for _, s := range statuses {
			st, err := r.open(tableStatuses, indexOrgStatusActivated, newKey().str(q.Org).str(string(s)), q.ActivatedTo)
			if err != nil {
				return nil, err
			}
			streams = append(streams, st)
		}
		inRange := func(st *StatusRecord, s Status) bool {
			return st.OrgID == q.Org && st.Status == s && !st.ActivatedAt.IsZero()
		}
		for len(r.hits) < want {
			best := -1
			var bestRec *StatusRecord
			for i, s := range streams {
				for s.next != nil && !inRange(s.next.(*StatusRecord), statuses[i]) {
					s.next = nil // left the prefix: this stream is done
				}
				if s.next == nil {
					continue
				}
				rec := s.next.(*StatusRecord)
				if bestRec == nil || before(bestRec.ActivatedAt, bestRec.OrderID, rec.ActivatedAt, rec.OrderID) {
					best, bestRec = i, rec
				}
			}
			if bestRec == nil || !q.ActivatedFrom.IsZero() && bestRec.ActivatedAt.Before(q.ActivatedFrom) {
				break
			}
			streams[best].next = streams[best].it.Next()
			o, err := first[Order](r.txn, tableOrders, indexID, newKey().str(bestRec.OrderID))
			if err != nil {
				return nil, err
			}
			if err := r.consider(o, bestRec); err != nil {
				return nil, err
			}
		}
		return r.page(), nil
	}

	var (
		table, index string
		prefix       key
		accept       func(any) (*Order, *StatusRecord, bool, error)
	)
	orderRow := func(match func(*Order) bool) func(any) (*Order, *StatusRecord, bool, error) {
		return func(raw any) (*Order, *StatusRecord, bool, error) {
			o := raw.(*Order)
			if !match(o) {
				return nil, nil, false, nil
			}
			st, err := first[StatusRecord](r.txn, tableStatuses, indexID, newKey().str(o.ID))
			return o, st, true, err
		}
	}
	switch {
	case q.Status != "":
		table, index, prefix = tableStatuses, indexOrgStatusInput, newKey().str(q.Org).str(string(q.Status))
		accept = func(raw any) (*Order, *StatusRecord, bool, error) {
			st := raw.(*StatusRecord)
			if st.OrgID != q.Org || st.Status != q.Status {
				return nil, nil, false, nil
			}
			o, err := first[Order](r.txn, tableOrders, indexID, newKey().str(st.OrderID))
			return o, st, true, err
		}
	case q.OperatorID != "":
		table, index, prefix = tableOrders, indexOrgOperator, newKey().str(q.Org).str(q.OperatorID)
		accept = orderRow(func(o *Order) bool { return o.OrgID == q.Org && o.OperatorID == q.OperatorID })
	case q.ProductType != "":
		table, index, prefix = tableOrders, indexOrgType, newKey().str(q.Org).fold(q.ProductType)
		accept = orderRow(func(o *Order) bool { return o.OrgID == q.Org && Fold(o.ProductType) == Fold(q.ProductType) })
	default:
		table, index, prefix = tableOrders, indexOrgCreated, newKey().str(q.Org)
		accept = orderRow(func(o *Order) bool { return o.OrgID == q.Org })
	}
	s, err := r.open(table, index, prefix, q.InputTo)
	if err != nil {
		return nil, err
	}
	for raw := s.next; raw != nil && len(r.hits) < want; raw = s.it.Next() {
		o, st, ok, err := accept(raw)
		if err != nil {
			return nil, err
		}
		if !ok {
			break // left the prefix
		}
		if o == nil || st == nil {
			return nil, fmt.Errorf("%w: %s index names a missing record", ErrCorrupt, index)
		}
		if !q.InputFrom.IsZero() && o.CreatedAt.Before(q.InputFrom) {
			break
		}
		if err := r.consider(o, st); err != nil {
			return nil, err
		}
	}
	return r.page(), nil
}
