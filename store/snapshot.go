package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"
)

// The snapshot stream: an 8-byte magic, the format version and the commit
// index as uvarints, then records as (table tag byte, uvarint length,
// encoded record), a zero tag, and the SHA-256 of everything before it. A
// snapshot whose hash does not match is refused (ErrCorrupt) before the
// state it carries replaces anything.
//
// From format 3, each table's records (in primary key order) are followed
// by one block per secondary index, tagged with the table's tag | 0x80: the
// index's position in the schema, then its entries in key order as record
// ordinals (and, for a multi-valued index, which of the record's keys), all
// uvarints. A restore then builds every index without sorting; it checks
// that the keys strictly increase and that no record is missing.
const (
	snapshotMagic   = "RGSTRSNP"
	snapshotVersion = 5 // 2: units have a parent; credentials, sessions and schedules. 3: index orders. 4: recognition steps. 5: operators' tax codes
	indexBlockTag   = 0x80
)

// snapshotReadable reports whether this program reads format v.
func snapshotReadable(v uint64) bool { return v >= 1 && v <= snapshotVersion }

// snapTable binds a table to its tag and record codec. Tags are stable.
type snapTable struct {
	tag   byte
	table string
	enc   func(*encoder, any)
	dec   func(*decoder) any
}

func snapTables() []snapTable {
	return []snapTable{
		{1, tableOrganisations, func(e *encoder, o any) { encOrganisation(e, o.(*Organisation)) }, func(d *decoder) any { v := decOrganisation(d); return &v }},
		{2, tableUnits, func(e *encoder, o any) { encUnit(e, o.(*Unit)) }, func(d *decoder) any { v := decUnit(d); return &v }},
		{3, tableOperators, func(e *encoder, o any) { encOperator(e, o.(*Operator)) }, func(d *decoder) any { v := decOperator(d); return &v }},
		{4, tableHolders, func(e *encoder, o any) { encHolder(e, o.(*HolderIdentity)) }, func(d *decoder) any { v := decHolder(d); return &v }},
		{5, tableOrders, func(e *encoder, o any) { encOrder(e, o.(*Order)) }, func(d *decoder) any { v := decOrder(d); return &v }},
		{6, tableStatuses, func(e *encoder, o any) { encStatus(e, o.(*StatusRecord)) }, func(d *decoder) any { v := decStatus(d); return &v }},
		{7, tableProducts, func(e *encoder, o any) { encProduct(e, o.(*Product)) }, func(d *decoder) any { v := decProduct(d); return &v }},
		{8, tableChanges, func(e *encoder, o any) { encChange(e, o.(*StatusChange)) }, func(d *decoder) any { v := decChange(d); return &v }},
		{9, tableCRLEntries, func(e *encoder, o any) { encCRLEntry(e, o.(*CRLEntry)) }, func(d *decoder) any { v := decCRLEntry(d); return &v }},
		{10, tableCRLs, func(e *encoder, o any) { encCRL(e, o.(*CRLRecord)) }, func(d *decoder) any { v := decCRL(d); return &v }},
		{11, tableReceipts, func(e *encoder, o any) { encReceipt(e, o.(*Receipt)) }, func(d *decoder) any { v := decReceipt(d); return &v }},
		{12, tableEvidence, func(e *encoder, o any) { encEvidence(e, o.(*EvidenceRef)) }, func(d *decoder) any { v := decEvidence(d); return &v }},
		{13, tableEnvelopes, func(e *encoder, o any) { encEnvelope(e, o.(*EnvelopeRef)) }, func(d *decoder) any { v := decEnvelope(d); return &v }},
		{14, tableAudit, func(e *encoder, o any) { encAudit(e, o.(*AuditEvent)) }, func(d *decoder) any { v := decAudit(d); return &v }},
		{15, tableLeases, func(e *encoder, o any) { encLease(e, o.(*Lease)) }, func(d *decoder) any { v := decLease(d); return &v }},
		{16, tableIntents, func(e *encoder, o any) { encIntent(e, o.(*IntentRecord)) }, func(d *decoder) any { v := decIntent(d); return &v }},
		{17, tableIdempotency, func(e *encoder, o any) { encIdempotency(e, o.(*idempotencyRecord)) }, func(d *decoder) any { v := decIdempotency(d); return &v }},
		{18, tableMeta, func(e *encoder, o any) { encMeta(e, o.(*metaRecord)) }, func(d *decoder) any { v := decMeta(d); return &v }},
		{19, tableCredentials, func(e *encoder, o any) { encCredentials(e, o.(*Credentials)) }, func(d *decoder) any { v := decCredentials(d); return &v }},
		{20, tableSessions, func(e *encoder, o any) { encSession(e, o.(*Session)) }, func(d *decoder) any { v := decSession(d); return &v }},
		{21, tableSchedules, func(e *encoder, o any) { encSchedule(e, o.(*Schedule)) }, func(d *decoder) any { v := decSchedule(d); return &v }},
		{22, tableSteps, func(e *encoder, o any) { encStep(e, o.(*StepRecord)) }, func(d *decoder) any { v := decStep(d); return &v }},
	}
}

func encIdempotency(e *encoder, v *idempotencyRecord) {
	e.str(v.Org)
	e.str(v.Key)
	e.bytes(v.Hash)
	e.u64(v.Result.Index)
	e.u64(uint64(len(v.Result.Outputs)))
	for _, o := range v.Result.Outputs {
		e.u64(o.Number)
		e.time(o.ExpiresAt)
	}
	e.u64(v.CreatedAt)
	e.time(v.At)
}

func decIdempotency(d *decoder) idempotencyRecord {
	r := idempotencyRecord{Org: d.str(), Key: d.str(), Hash: d.bytes()}
	r.Result.Index = d.u64()
	if n := d.length(); n > 0 {
		r.Result.Outputs = make([]Output, 0, n)
		for range n {
			r.Result.Outputs = append(r.Result.Outputs, Output{Number: d.u64(), ExpiresAt: d.time()})
		}
	}
	r.CreatedAt = d.u64()
	if !d.v2 {
		r.At = d.time()
	}
	return r
}

func encMeta(e *encoder, v *metaRecord) {
	e.str(v.Name)
	e.u64(v.Value)
	e.u64(v.Aux)
	e.bytes(v.Hash)
}

func decMeta(d *decoder) metaRecord {
	return metaRecord{Name: d.str(), Value: d.u64(), Aux: d.u64(), Hash: d.bytes()}
}

// writeSnapshot streams the state seen by txn at index to w.
func writeSnapshot(w io.Writer, txn *dbTxn, index uint64) error {
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<20)
	e := &encoder{b: make([]byte, 0, 4096)}
	e.b = append(e.b, snapshotMagic...)
	e.u64(snapshotVersion)
	e.u64(index)
	if _, err := bw.Write(e.b); err != nil {
		return fmt.Errorf("store: writing snapshot: %w", err)
	}
	rec := &encoder{}
	for _, t := range snapTables() {
		it, err := txn.Get(t.table, indexID, newKey())
		if err != nil {
			return fmt.Errorf("store: snapshot of %s: %w", t.table, err)
		}
		ordinals := map[any]uint64{}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			ordinals[raw] = uint64(len(ordinals))
			rec.b = rec.b[:0]
			t.enc(rec, raw)
			e.b = e.b[:0]
			e.byte1(t.tag)
			e.bytes(rec.b)
			if _, err := bw.Write(e.b); err != nil {
				return fmt.Errorf("store: writing snapshot: %w", err)
			}
		}
		if err := writeIndexOrders(bw, txn, t, ordinals); err != nil {
			return err
		}
	}
	if err := bw.WriteByte(0); err != nil {
		return fmt.Errorf("store: writing snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("store: writing snapshot: %w", err)
	}
	if _, err := w.Write(h.Sum(nil)); err != nil {
		return fmt.Errorf("store: writing snapshot: %w", err)
	}
	return nil
}

// writeIndexOrders writes the index blocks of table t (format 3).
func writeIndexOrders(w io.Writer, txn *dbTxn, t snapTable, ordinals map[any]uint64) error {
	_, def, err := txn.table(t.table)
	if err != nil {
		return err
	}
	blk, e := &encoder{}, &encoder{}
	for j := 1; j < len(def.indexes); j++ {
		ix := def.indexes[j]
		it, err := txn.Get(t.table, ix.name, nil)
		if err != nil {
			return fmt.Errorf("store: snapshot of %s: %w", t.table, err)
		}
		blk.b = blk.b[:0]
		blk.u64(uint64(j))
		for ent := it.nextEntry(); ent != nil; ent = it.nextEntry() {
			o := unwrap(ent)
			n, ok := ordinals[o]
			if !ok {
				return fmt.Errorf("%w: index %s.%s holds a record the table lacks", ErrCorrupt, t.table, ix.name)
			}
			blk.u64(n)
			if m, ok := ent.(*multiRef); ok {
				v := slices.IndexFunc(ix.multi(o), func(k key) bool { return bytes.Equal(k, m.k) })
				if v < 0 {
					return fmt.Errorf("%w: index %s.%s holds a stale key", ErrCorrupt, t.table, ix.name)
				}
				blk.u64(uint64(v))
			}
		}
		e.b = e.b[:0]
		e.byte1(t.tag | indexBlockTag)
		e.bytes(blk.b)
		if _, err := w.Write(e.b); err != nil {
			return fmt.Errorf("store: writing snapshot: %w", err)
		}
	}
	return nil
}

// trailerReader passes a stream on but for its last sha256.Size bytes (the
// trailer), hashing what it passes; at the end, trailer holds them.
type trailerReader struct {
	r       io.Reader
	h       hash.Hash
	buf     []byte
	start   int
	end     int
	eof     bool
	trailer []byte
}

func newTrailerReader(r io.Reader) *trailerReader {
	return &trailerReader{r: r, h: sha256.New(), buf: make([]byte, 1<<20)}
}

func (t *trailerReader) Read(p []byte) (int, error) {
	for t.end-t.start <= sha256.Size && !t.eof {
		if t.start > 0 {
			t.end = copy(t.buf, t.buf[t.start:t.end])
			t.start = 0
		}
		n, err := t.r.Read(t.buf[t.end:])
		t.end += n
		if err == io.EOF {
			t.eof = true
		} else if err != nil {
			return 0, err
		}
	}
	avail := t.end - t.start - sha256.Size
	if avail <= 0 {
		if t.trailer == nil && t.end-t.start == sha256.Size {
			t.trailer = bytes.Clone(t.buf[t.start:t.end])
		}
		return 0, io.EOF
	}
	n := copy(p, t.buf[t.start:t.start+avail])
	if t.h != nil {
		t.h.Write(p[:n])
	}
	t.start += n
	return n, nil
}

// snapOrder is the order of one index's entries read from a snapshot.
type snapOrder struct {
	j        int
	ordinals []uint32
	values   []uint32 // multi-valued index: which key of the record
}

// recordDecoder decodes snapshot records while they are read: the reader
// hands it chunks of raw records, workers on the other CPUs decode them,
// and records returns them per table, in order.
type recordDecoder struct {
	schema *dbSchema
	jobs   chan *recordChunk
	wg     sync.WaitGroup
	chunks []*recordChunk // in stream order
	open   []*recordChunk // per table, the chunk being filled
	count  []int          // per table, the records queued so far
	closed bool
}

type recordChunk struct {
	ti   int
	from int // position of the first record in its table
	dec  func(*decoder) any
	raws [][]byte
	objs []any
	err  error
}

const recordChunkSize = 4096

func newRecordDecoder(s *dbSchema) *recordDecoder {
	rd := &recordDecoder{schema: s, jobs: make(chan *recordChunk, 4), open: make([]*recordChunk, len(s.tables)),
		count: make([]int, len(s.tables))}
	for range max(1, runtime.GOMAXPROCS(0)) {
		rd.wg.Go(func() {
			for c := range rd.jobs {
				c.objs = make([]any, len(c.raws))
				for i, raw := range c.raws {
					d := &decoder{b: raw, alias: true}
					c.objs[i] = c.dec(d)
					if err := d.end(); err != nil {
						c.err = fmt.Errorf("%s record %d: %w", s.tables[c.ti].name, c.from+i, err)
						break
					}
				}
			}
		})
	}
	return rd
}

// add queues the raw record of table ti; each record has its own bytes,
// which its strings then share.
func (rd *recordDecoder) add(ti int, dec func(*decoder) any, raw []byte) {
	c := rd.open[ti]
	if c == nil {
		c = &recordChunk{ti: ti, from: rd.count[ti], dec: dec, raws: make([][]byte, 0, recordChunkSize)}
		rd.open[ti] = c
		rd.chunks = append(rd.chunks, c)
	}
	c.raws = append(c.raws, raw)
	rd.count[ti]++
	if len(c.raws) == recordChunkSize {
		rd.jobs <- c
		rd.open[ti] = nil
	}
}

// stop ends the workers; it is safe to call more than once.
func (rd *recordDecoder) stop() {
	if rd.closed {
		return
	}
	rd.closed = true
	for ti, c := range rd.open {
		if c != nil {
			rd.jobs <- c
			rd.open[ti] = nil
		}
	}
	close(rd.jobs)
	rd.wg.Wait()
}

// records waits for every chunk and returns the records per table; the
// first error in stream order is reported.
func (rd *recordDecoder) records() ([][]any, error) {
	rd.stop()
	out := make([][]any, len(rd.schema.tables))
	for _, c := range rd.chunks {
		if c.err != nil {
			return nil, c.err
		}
		out[c.ti] = append(out[c.ti], c.objs...)
	}
	return out, nil
}

// parseIndexOrder decodes an index block of table t.
func parseIndexOrder(buf []byte, t *tableDef) (*snapOrder, error) {
	d := &decoder{b: buf}
	j := d.u64()
	if d.err == nil && (j == 0 || j >= uint64(len(t.indexes))) {
		return nil, fmt.Errorf("no secondary index %d", j)
	}
	o := &snapOrder{j: int(j)}
	multi := t.indexes[o.j].multi != nil
	for d.err == nil && len(d.b) > 0 {
		o.ordinals = append(o.ordinals, d.u32())
		if multi {
			o.values = append(o.values, d.u32())
		}
	}
	return o, d.end()
}

// readSnapshot builds a new state from a snapshot stream; it returns the
// state and the commit index it reflects, or an error wrapping ErrCorrupt or
// ErrVersion, in which case nothing was replaced.
func readSnapshot(r io.Reader) (*state, uint64, error) {
	st, index, _, err := readSnapshotSum(r)
	return st, index, err
}

// readSnapshotSum is readSnapshot that also returns the snapshot's SHA-256
// trailer, which identifies it.
func readSnapshotSum(r io.Reader) (*state, uint64, []byte, error) {
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: snapshot: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	tr := newTrailerReader(r)
	hr := bufio.NewReaderSize(tr, 1<<20)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(hr, magic); err != nil || string(magic) != snapshotMagic {
		return nil, 0, nil, corrupt("bad magic")
	}
	ver, err := binary.ReadUvarint(hr)
	if err != nil {
		return nil, 0, nil, corrupt("truncated header")
	}
	if !snapshotReadable(ver) {
		return nil, 0, nil, fmt.Errorf("%w: snapshot format version %d, this program reads %d", ErrVersion, ver, snapshotVersion)
	}
	index, err := binary.ReadUvarint(hr)
	if err != nil {
		return nil, 0, nil, corrupt("truncated header")
	}
	st, err := newState()
	if err != nil {
		return nil, 0, nil, err
	}
	tables := map[byte]snapTable{}
	for _, t := range snapTables() {
		if ver == 1 && t.tag > 18 || ver < 4 && t.tag > 21 {
			continue
		}
		tables[t.tag] = t
	}
	if ver == 1 {
		u := tables[2]
		u.dec = func(d *decoder) any { v := decUnitV1(d); return &v }
		tables[2] = u
	}
	if ver < 5 {
		op := tables[3]
		op.dec = func(d *decoder) any { v := decOperatorV1(d); return &v }
		tables[3] = op
	}
	if ver < 3 {
		// Idempotency records had no entry time before format 3.
		ir := tables[17]
		ir.dec = func(d *decoder) any { d.v2 = true; v := decIdempotency(d); return &v }
		tables[17] = ir
	}
	// Records are decoded on the other CPUs while the stream is read; the
	// state is used only once the checksum at the end matched.
	rd := newRecordDecoder(st.db.schema)
	defer rd.stop()
	type rawBlock struct {
		t   snapTable
		ti  int
		buf []byte
	}
	var blocks []rawBlock
	pos := map[byte]int{}
	for tag, t := range tables {
		pos[tag] = st.db.schema.byName[t.table]
	}
	for {
		tag, err := hr.ReadByte()
		if err != nil {
			return nil, 0, nil, corrupt("truncated")
		}
		if tag == 0 {
			break
		}
		t, ok := tables[tag&^indexBlockTag]
		if !ok || tag&indexBlockTag != 0 && ver < 3 {
			return nil, 0, nil, corrupt("unknown table tag %d", tag)
		}
		size, err := binary.ReadUvarint(hr)
		if err != nil || size > maxDecodedLen {
			return nil, 0, nil, corrupt("bad record length")
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(hr, buf); err != nil {
			return nil, 0, nil, corrupt("truncated record")
		}
		ti := pos[t.tag]
		if tag&indexBlockTag != 0 {
			blocks = append(blocks, rawBlock{t, ti, buf})
			continue
		}
		rd.add(ti, t.dec, buf)
	}
	if _, err := hr.ReadByte(); err != io.EOF {
		return nil, 0, nil, corrupt("data after the end of the records")
	}
	if tr.trailer == nil {
		return nil, 0, nil, corrupt("missing checksum")
	}
	if !bytes.Equal(tr.trailer, tr.h.Sum(nil)) {
		return nil, 0, nil, corrupt("checksum mismatch")
	}
	orders := make([][]*snapOrder, len(st.db.schema.tables))
	for _, b := range blocks {
		o, err := parseIndexOrder(b.buf, st.db.schema.tables[b.ti])
		if err != nil {
			return nil, 0, nil, corrupt("%s index block: %v", b.t.table, err)
		}
		if orders[b.ti] == nil {
			orders[b.ti] = make([]*snapOrder, len(st.db.schema.tables[b.ti].indexes))
		}
		if orders[b.ti][o.j] != nil {
			return nil, 0, nil, corrupt("%s index block: index %d twice", b.t.table, o.j)
		}
		orders[b.ti][o.j] = o
	}
	records, err := rd.records()
	if err != nil {
		return nil, 0, nil, corrupt("%v", err)
	}
	if err := st.db.load(records, orders); err != nil {
		return nil, 0, nil, corrupt("%v", err)
	}
	if ver == 1 {
		// Format 1 had no schedules: derive them from the statuses.
		txn := st.db.Txn(true)
		defer txn.Abort()
		if err := rebuildSchedules(txn, index); err != nil {
			return nil, 0, nil, err
		}
		txn.Commit()
	}
	return st, index, tr.trailer, nil
}

// rebuildSchedules writes the schedule of every order from its status
// record, product and latest suspension.
func rebuildSchedules(txn *dbTxn, index uint64) error {
	var sts []*StatusRecord
	if err := scanPrefix(txn, tableStatuses, indexID, newKey(), func(raw any) error {
		sts = append(sts, raw.(*StatusRecord))
		return nil
	}); err != nil {
		return err
	}
	for _, st := range sts {
		sc, err := expectedSchedule(txn, st)
		if err != nil {
			return err
		}
		if sc == nil {
			continue
		}
		sc.Version = index
		if err := txn.Insert(tableSchedules, sc); err != nil {
			return fmt.Errorf("store: writing schedule: %w", err)
		}
	}
	return nil
}

// expectedSchedule is the schedule an order's records call for.
func expectedSchedule(txn *dbTxn, st *StatusRecord) (*Schedule, error) {
	var hold time.Time
	if st.Status == StatusSuspended {
		h, err := holdOf(txn, st.OrderID)
		if err != nil {
			return nil, err
		}
		hold = h
	}
	return scheduleOf(txn, st, hold)
}

// snapshotIdentity reads a snapshot stream through without decoding or
// hashing it and returns the commit index of its header and its trailer.
func snapshotIdentity(r io.Reader) (uint64, []byte, error) {
	tr := &trailerReader{r: r, buf: make([]byte, 1<<20)}
	br := bufio.NewReaderSize(tr, 1<<16)
	head := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != snapshotMagic {
		return 0, nil, fmt.Errorf("%w: snapshot: bad magic", ErrCorrupt)
	}
	if _, err := binary.ReadUvarint(br); err != nil {
		return 0, nil, fmt.Errorf("%w: snapshot: truncated header", ErrCorrupt)
	}
	index, err := binary.ReadUvarint(br)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: snapshot: truncated header", ErrCorrupt)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return 0, nil, fmt.Errorf("%w: snapshot: %v", ErrCorrupt, err)
	}
	if tr.trailer == nil {
		return 0, nil, fmt.Errorf("%w: snapshot: missing checksum", ErrCorrupt)
	}
	return index, tr.trailer, nil
}
