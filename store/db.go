package store

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// db holds the state in memory as go-memdb does: tables of records, each
// with a primary index and secondary indexes, one writer at a time and
// read transactions that see a consistent, unchanging version without a
// lock. Each index is a copy-on-write B+tree (btree.go) whose entries point
// to the records, and keys are computed from the records when compared, so
// an index entry costs about 16 bytes instead of go-memdb's ~430 (see
// BENCHMARKS.md). Records are never changed in place: a write replaces
// them.
type db struct {
	schema *dbSchema
	cur    atomic.Pointer[dbRoot]
	wmu    sync.Mutex // held by the one write transaction
}

// dbRoot is one committed version: the trees of every index of every
// table, [table][index]. Committed trees never change.
type dbRoot struct {
	tables [][]*btree
}

// keyFunc computes an index key of a record into k (which it may grow);
// false means the record has no entry in the index.
type keyFunc func(k key, obj any) (key, bool)

// indexDef declares an index: one key per record (key), or several (multi).
// Keys of distinct records must differ: compound keys end with the record's
// ID. Records whose key is equal replace each other in the index, so the
// commands check unique values before they write.
type indexDef struct {
	name  string
	key   keyFunc
	multi func(obj any) []key
	text  func(obj any) string // set when key is str(text): a faster comparison
}

// tableDef declares a table; indexes[0] is its primary index.
type tableDef struct {
	name    string
	indexes []*indexDef
	byName  map[string]int
}

type dbSchema struct {
	tables []*tableDef
	byName map[string]int
}

func newSchema(tables ...*tableDef) *dbSchema {
	s := &dbSchema{tables: tables, byName: make(map[string]int, len(tables))}
	for i, t := range tables {
		s.byName[t.name] = i
		t.byName = make(map[string]int, len(t.indexes))
		for j, ix := range t.indexes {
			t.byName[ix.name] = j
		}
	}
	return s
}

func table(name string, indexes ...*indexDef) *tableDef {
	return &tableDef{name: name, indexes: indexes}
}

// multiRef is an entry of an index with several keys per record.
type multiRef struct {
	k   key
	obj any
}

func unwrap(e any) any {
	if m, ok := e.(*multiRef); ok {
		return m.obj
	}
	return e
}

// compare compares the key of entry e with k; buf is scratch space.
func (ix *indexDef) compare(e any, k key, buf *key) int {
	if ix.text != nil {
		return compareText(ix.text(e), k)
	}
	*buf = ix.entryKey((*buf)[:0], e)
	return bytes.Compare(*buf, k)
}

// compareText compares the key str(s), that is s and a NUL, with k.
func compareText(s string, k key) int {
	n := min(len(s), len(k))
	if n > 0 {
		if c := strings.Compare(s[:n], unsafe.String(&k[0], n)); c != 0 {
			return c
		}
	}
	switch {
	case len(k) == n: // k is s or a prefix of it
		return 1
	case k[n] != 0:
		return -1
	case len(k) == n+1:
		return 0
	}
	return -1
}

// entryKey appends the key of an index entry to buf.
func (ix *indexDef) entryKey(buf key, e any) key {
	if m, ok := e.(*multiRef); ok {
		return append(buf, m.k...)
	}
	k, _ := ix.key(buf, e)
	return k
}

func newDB(s *dbSchema) *db {
	d := &db{schema: s}
	r := &dbRoot{tables: make([][]*btree, len(s.tables))}
	for i, t := range s.tables {
		r.tables[i] = make([]*btree, len(t.indexes))
		for j, ix := range t.indexes {
			r.tables[i][j] = newBTree(ix, ix.text != nil)
		}
	}
	d.cur.Store(r)
	return d
}

// dbTxn is a read or write transaction. A write transaction works on forks
// of the trees it changes and publishes them on Commit; Abort (or a
// transaction that never commits) leaves the committed version as it was.
type dbTxn struct {
	db    *db
	root  *dbRoot
	write bool
	mod   [][]*btree // write: the forked trees of each changed table
	done  bool
}

var (
	errTxnDone = errors.New("store: transaction already ended")
	errReadTxn = errors.New("store: write in a read transaction")
)

// Txn starts a transaction; a write transaction waits for the previous one
// to end.
func (d *db) Txn(write bool) *dbTxn {
	if write {
		d.wmu.Lock()
	}
	return &dbTxn{db: d, root: d.cur.Load(), write: write}
}

// Commit publishes the changes of a write transaction.
func (t *dbTxn) Commit() {
	if !t.write || t.done {
		return
	}
	t.done = true
	if t.mod != nil {
		next := &dbRoot{tables: slices.Clone(t.root.tables)}
		for i, m := range t.mod {
			if m != nil {
				next.tables[i] = m
			}
		}
		t.db.cur.Store(next)
	}
	t.db.wmu.Unlock()
}

// Abort ends a transaction without publishing anything; after Commit it does
// nothing.
func (t *dbTxn) Abort() {
	if t.write && !t.done {
		t.db.wmu.Unlock()
	}
	t.done = true
}

func (t *dbTxn) table(name string) (int, *tableDef, error) {
	i, ok := t.db.schema.byName[name]
	if !ok {
		return 0, nil, fmt.Errorf("store: no table %q", name)
	}
	return i, t.db.schema.tables[i], nil
}

func (t *dbTxn) index(tableName, index string) (*btree, *indexDef, int, error) {
	ti, def, err := t.table(tableName)
	if err != nil {
		return nil, nil, 0, err
	}
	j, ok := def.byName[index]
	if !ok {
		return nil, nil, 0, fmt.Errorf("store: no index %q on table %q", index, tableName)
	}
	return t.trees(ti)[j], def.indexes[j], ti, nil
}

func (t *dbTxn) trees(ti int) []*btree {
	if t.mod != nil && t.mod[ti] != nil {
		return t.mod[ti]
	}
	return t.root.tables[ti]
}

func (t *dbTxn) writable(ti int) ([]*btree, error) {
	switch {
	case !t.write:
		return nil, errReadTxn
	case t.done:
		return nil, errTxnDone
	}
	if t.mod == nil {
		t.mod = make([][]*btree, len(t.root.tables))
	}
	if t.mod[ti] == nil {
		base := t.root.tables[ti]
		forks := make([]*btree, len(base))
		for j, tr := range base {
			forks[j] = tr.fork()
		}
		t.mod[ti] = forks
	}
	return t.mod[ti], nil
}

// Insert writes obj, replacing the record with the same primary key and its
// index entries.
func (t *dbTxn) Insert(tableName string, obj any) error {
	ti, def, err := t.table(tableName)
	if err != nil {
		return err
	}
	trees, err := t.writable(ti)
	if err != nil {
		return err
	}
	pk, ok := def.indexes[0].key(nil, obj)
	if !ok {
		return fmt.Errorf("store: %s record without a primary key", tableName)
	}
	if old, ok := trees[0].Get(pk); ok {
		unindex(def, trees, old)
	}
	trees[0].Set(pk, obj)
	for j, ix := range def.indexes[1:] {
		tr := trees[j+1]
		if ix.multi != nil {
			for _, k := range ix.multi(obj) {
				tr.Set(k, &multiRef{k: k, obj: obj})
			}
			continue
		}
		if k, ok := ix.key(nil, obj); ok {
			tr.Set(k, obj)
		}
	}
	return nil
}

// Delete removes the record with obj's primary key and its index entries.
func (t *dbTxn) Delete(tableName string, obj any) error {
	ti, def, err := t.table(tableName)
	if err != nil {
		return err
	}
	trees, err := t.writable(ti)
	if err != nil {
		return err
	}
	pk, _ := def.indexes[0].key(nil, obj)
	old, ok := trees[0].Delete(pk)
	if !ok {
		return fmt.Errorf("store: deleting from %s: %w", tableName, errNoRecord)
	}
	unindex(def, trees, old)
	return nil
}

var errNoRecord = errors.New("no such record")

// unindex removes the secondary index entries of old.
func unindex(def *tableDef, trees []*btree, old any) {
	for j, ix := range def.indexes[1:] {
		tr := trees[j+1]
		if ix.multi != nil {
			for _, k := range ix.multi(old) {
				tr.Delete(k)
			}
			continue
		}
		if k, ok := ix.key(nil, old); ok {
			tr.Delete(k)
		}
	}
}

// First returns the record whose key in index is k, or nil.
func (t *dbTxn) First(tableName, index string, k key) (any, error) {
	tr, _, _, err := t.index(tableName, index)
	if err != nil {
		return nil, err
	}
	e, ok := tr.Get(k)
	if !ok {
		return nil, nil
	}
	return unwrap(e), nil
}

// Get iterates over the records whose key in index starts with prefix, in
// key order.
func (t *dbTxn) Get(tableName, index string, prefix key) (*iterator, error) {
	it, err := t.iter(tableName, index, prefix)
	if err != nil {
		return nil, err
	}
	it.ok = it.c.SeekGE(prefix)
	return it, nil
}

// GetReverse is Get in descending key order.
func (t *dbTxn) GetReverse(tableName, index string, prefix key) (*iterator, error) {
	it, err := t.iter(tableName, index, prefix)
	if err != nil {
		return nil, err
	}
	it.reverse = true
	if end, ok := prefixEnd(prefix); ok {
		if it.c.SeekGE(end) {
			it.ok = it.c.Prev()
		} else {
			it.ok = it.c.Last()
		}
	} else {
		it.ok = it.c.Last()
	}
	return it, nil
}

// LowerBound iterates in key order from the first key not less than k to
// the end of the index.
func (t *dbTxn) LowerBound(tableName, index string, k key) (*iterator, error) {
	it, err := t.iter(tableName, index, nil)
	if err != nil {
		return nil, err
	}
	it.ok = it.c.SeekGE(k)
	return it, nil
}

// ReverseLowerBound iterates in descending key order from the last key not
// greater than k to the start of the index.
func (t *dbTxn) ReverseLowerBound(tableName, index string, k key) (*iterator, error) {
	it, err := t.iter(tableName, index, nil)
	if err != nil {
		return nil, err
	}
	it.reverse = true
	it.ok = it.c.SeekLE(k)
	return it, nil
}

// Len returns the number of entries of an index.
func (t *dbTxn) Len(tableName, index string) (int, error) {
	tr, _, _, err := t.index(tableName, index)
	if err != nil {
		return 0, err
	}
	return tr.Len(), nil
}

func (t *dbTxn) iter(tableName, index string, prefix key) (*iterator, error) {
	tr, ix, ti, err := t.index(tableName, index)
	if err != nil {
		return nil, err
	}
	if t.mod != nil && t.mod[ti] != nil && !t.done {
		// The transaction may go on writing this tree: give it a new owner
		// so that every node the cursor can reach is copied, not changed.
		tr.owner = newOwner()
	}
	if len(prefix) == 0 {
		prefix = nil
	}
	return &iterator{c: tr.cursor(), ix: ix, prefix: prefix}, nil
}

// prefixEnd returns the smallest key greater than every key that starts
// with prefix; false when there is none.
func prefixEnd(prefix key) (key, bool) {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1], true
		}
	}
	return nil, false
}

// iterator returns records one at a time; Next returns nil at the end.
type iterator struct {
	c       *treeCursor
	ix      *indexDef
	ok      bool
	reverse bool
	prefix  key
	buf     key
}

// Next returns the next record, or nil.
func (it *iterator) Next() any { return unwrap(it.nextEntry()) }

// nextEntry returns the next index entry (a record or a *multiRef), or nil.
func (it *iterator) nextEntry() any {
	if !it.ok {
		return nil
	}
	e := it.c.Item()
	if it.prefix != nil {
		it.buf = it.ix.entryKey(it.buf[:0], e)
		if !bytes.HasPrefix(it.buf, it.prefix) {
			it.ok = false
			return nil
		}
	}
	if it.reverse {
		it.ok = it.c.Prev()
	} else {
		it.ok = it.c.Next()
	}
	return e
}

// load replaces the state of an empty db with records, given per table,
// building every index with full nodes (a restore). An index whose order is
// given (orders[table][index], from a snapshot) is checked, not sorted. Two
// records of a table with the same primary key are refused.
func (d *db) load(records [][]any, orders [][]*snapOrder) error {
	r := &dbRoot{tables: make([][]*btree, len(d.schema.tables))}
	type job struct{ ti, j int }
	var jobs []job
	for ti, t := range d.schema.tables {
		r.tables[ti] = make([]*btree, len(t.indexes))
		for j := range t.indexes {
			jobs = append(jobs, job{ti, j})
		}
	}
	errs := make([]error, len(jobs))
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= len(jobs) {
					return
				}
				jb := jobs[n]
				t := d.schema.tables[jb.ti]
				if jb.j > 0 && orders[jb.ti] != nil && orders[jb.ti][jb.j] != nil {
					r.tables[jb.ti][jb.j], errs[n] = buildOrdered(t, jb.j, records[jb.ti], orders[jb.ti][jb.j])
				} else {
					r.tables[jb.ti][jb.j], errs[n] = buildIndex(t, jb.j, records[jb.ti])
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	d.cur.Store(r)
	return nil
}

// buildIndex sorts the entries of index j of t by key and builds its tree.
func buildIndex(t *tableDef, j int, objs []any) (*btree, error) {
	ix := t.indexes[j]
	type ent struct {
		off, end uint32
		e        any
	}
	ents := make([]ent, 0, len(objs))
	arena := make([]byte, 0, 32*len(objs))
	add := func(k key, e any) error {
		if len(arena)+len(k) > 1<<32-1 {
			return fmt.Errorf("store: index %s.%s too large to load", t.name, ix.name)
		}
		off := uint32(len(arena))
		arena = append(arena, k...)
		ents = append(ents, ent{off, uint32(len(arena)), e})
		return nil
	}
	var buf key
	for _, o := range objs {
		if ix.multi != nil {
			for _, k := range ix.multi(o) {
				if err := add(k, &multiRef{k: k, obj: o}); err != nil {
					return nil, err
				}
			}
			continue
		}
		var ok bool
		if buf, ok = ix.key(buf[:0], o); ok {
			if err := add(buf, o); err != nil {
				return nil, err
			}
		}
	}
	cmp := func(a, b ent) int { return bytes.Compare(arena[a.off:a.end], arena[b.off:b.end]) }
	if !slices.IsSortedFunc(ents, cmp) {
		// Equal keys keep their input order (the offsets grow with it).
		slices.SortFunc(ents, func(a, b ent) int {
			if c := cmp(a, b); c != 0 {
				return c
			}
			return int(a.off) - int(b.off)
		})
	}
	kept := ents[:0]
	for i, e := range ents {
		if i+1 < len(ents) && cmp(e, ents[i+1]) == 0 {
			if j == 0 {
				return nil, fmt.Errorf("%w: two %s records with the key %q", ErrCorrupt, t.name, arena[e.off:e.end])
			}
			continue // the later record holds the key, as when inserted in order
		}
		kept = append(kept, e)
	}
	items := make([]any, len(kept))
	for i, e := range kept {
		items[i] = e.e
	}
	return buildBTree(ix, ix.text != nil, items, func(i int) key { return key(arena[kept[i].off:kept[i].end]) }), nil
}

// buildOrdered builds index j of t from the order a snapshot gave, checking
// it: every entry names a record with a key, keys strictly increase, and
// every record with a key is there.
func buildOrdered(t *tableDef, j int, objs []any, o *snapOrder) (*btree, error) {
	ix := t.indexes[j]
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: index %s.%s: %s", ErrCorrupt, t.name, ix.name, fmt.Sprintf(format, args...))
	}
	items := make([]any, len(o.ordinals))
	seen := make([]bool, len(objs))
	var prev, cur key
	for n, ord := range o.ordinals {
		if int(ord) >= len(objs) {
			return nil, bad("entry %d names record %d of %d", n, ord, len(objs))
		}
		rec := objs[ord]
		var e any = rec
		if ix.multi != nil {
			ks := ix.multi(rec)
			v := o.values[n]
			if int(v) >= len(ks) {
				return nil, bad("entry %d names key %d of %d", n, v, len(ks))
			}
			e = &multiRef{k: ks[v], obj: rec}
			cur = append(cur[:0], ks[v]...)
		} else {
			var ok bool
			if cur, ok = ix.key(cur[:0], rec); !ok {
				return nil, bad("entry %d names a record without a key", n)
			}
		}
		if n > 0 && bytes.Compare(prev, cur) >= 0 {
			return nil, bad("entry %d is out of order", n)
		}
		prev, cur = cur, prev
		seen[ord] = true
		items[n] = e
	}
	want := 0
	for i, rec := range objs {
		switch {
		case ix.multi != nil:
			want += len(ix.multi(rec))
		case seen[i]:
			want++
		default:
			if _, ok := ix.key(nil, rec); ok {
				return nil, bad("record %d is missing", i)
			}
		}
	}
	if want != len(items) {
		return nil, bad("%d entries, the records have %d keys", len(items), want)
	}
	return buildBTree(ix, ix.text != nil, items, func(i int) key { return ix.entryKey(nil, items[i]) }), nil
}
