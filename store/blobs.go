package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// MaxBlobSize is the largest blob the store accepts.
const MaxBlobSize = 64 << 20

// Blob placement. Small blobs (certificates, envelopes, sealed records,
// application forms) are appended to pack segments and made durable by one
// fsync per group of writes, shared by concurrent writers; larger ones
// (document images, signed forms) are files of their own, where the
// file's creation and fsync are small next to its size.
const (
	// maxPackedBlob is the largest blob written to a pack segment.
	maxPackedBlob = 256 << 10
	// maxSegment is the size past which a new segment is started.
	maxSegment = 64 << 20
	packsDir   = "packs"
	packSuffix = ".pack"
)

// A pack record is a header followed by the blob:
//
//	magic "RBP1" | length uint32 BE | SHA-256 of the blob | CRC-32C of the 40 bytes before
//
// The header's CRC tells a torn or unwritten tail (the end of the segment)
// from a record whose content no longer matches its hash (corrupt).
const packHeaderLen = 4 + 4 + sha256.Size + 4

var (
	packMagic  = [4]byte{'R', 'B', 'P', '1'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// packLoc is where a packed blob lives.
type packLoc struct {
	seg  uint32
	off  int64 // of the blob, past its header
	size uint32
	// seq is the record's append number: it is durable once the store's
	// synced count reaches it (0 for records found at open).
	seq uint64
}

// blobStore keeps blobs by their SHA-256: small ones in append-only pack
// segments (blobs/packs/NNNNNNNN.pack) indexed in memory, large ones and
// those written before packs existed as files (blobs/ab/abcdef...).
//
// Durability: a Put or PutAll returns only after its records are fsynced
// (and, for the first record of a segment, after the segment's name is
// fsynced in its directory), so a blob that a later commit references is
// on disk whatever happens next. Concurrent writers share fsyncs: each
// appends under mu, then one of them fsyncs for all records appended so
// far (group commit). A segment is fsynced before the next one is started,
// so only the active segment ever holds records not yet durable. A failed
// fsync poisons the writer: the kernel may have dropped the pages, so no
// later write may count on them (the store must be reopened).
//
// Only the active segment stays open (for appends and fsyncs); reads open
// the segment they need, so a large store holds no file per segment.
//
// Nodes may share the blob directory: each creates its segments with
// O_EXCL, so no two write one segment, and a blob not in the index is
// looked for in what the others appended (refresh) before it is reported
// absent. A copy written by another process counts for a Put only after
// this one has fsynced it.
type blobStore struct {
	dir string
	// segmentLimit is the size past which a new segment is started
	// (maxSegment; smaller in tests).
	segmentLimit int64

	// syncMu serialises fsyncs and segment changes, so that the active
	// file is never closed under an fsync. It is taken before mu.
	syncMu sync.Mutex
	synced atomic.Uint64 // records known durable

	// refreshMu serialises index refreshes (see refresh).
	refreshMu sync.Mutex

	mu    sync.Mutex
	index map[[sha256.Size]byte]packLoc
	// scanned is how far each segment written by another process (or an
	// earlier run) has been indexed: the offset past its last complete
	// record.
	scanned map[uint32]int64
	own     map[uint32]bool // segments this process created
	file    *os.File        // the active segment; nil until the first packed write
	active  uint32          // its number
	next    uint32          // number of the next segment to create
	size    int64           // bytes in the active segment
	full    bool            // the active segment takes no more records
	written uint64          // records appended
	err     error           // sticky write error
	closed  bool

	// foreign are segments of an earlier run or of another process holding
	// copies that counted for putLogged: syncLogged fsyncs them.
	foreign map[uint32]bool

	// readers are segments kept open for reading, up to maxReaders:
	// opening a segment costs more than reading a small blob from it.
	readers map[uint32]*os.File
}

// maxReaders bounds the segments a blob store keeps open for reading; reads
// from others open and close their segment.
const maxReaders = 64

var _ BlobStore = (*blobStore)(nil)

// newBlobStore opens the blob directory, creating it if needed, and
// indexes the pack segments. Writes go to a new segment: a tail left by a
// crash in the last one is never appended to.
func newBlobStore(dir string) (*blobStore, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("store: creating blob directory: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, packsDir), 0o700); err != nil {
		return nil, fmt.Errorf("store: creating blob directory: %w", err)
	}
	b := &blobStore{dir: dir, index: map[[sha256.Size]byte]packLoc{}, scanned: map[uint32]int64{},
		own: map[uint32]bool{}, next: 1, segmentLimit: maxSegment}
	entries, err := os.ReadDir(filepath.Join(dir, packsDir))
	if err != nil {
		return nil, fmt.Errorf("store: reading blob directory: %w", err)
	}
	var nums []uint32
	for _, e := range entries {
		n, ok := segmentNumber(e.Name())
		if ok {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	for _, n := range nums {
		if err := b.indexSegment(n); err != nil {
			return nil, err
		}
		b.next = n + 1
	}
	return b, nil
}

func (b *blobStore) segmentPath(n uint32) string {
	return filepath.Join(b.dir, packsDir, segmentName(n))
}

func segmentName(n uint32) string { return fmt.Sprintf("%08d%s", n, packSuffix) }

func segmentNumber(name string) (uint32, bool) {
	s, ok := strings.CutSuffix(name, packSuffix)
	if !ok || len(s) != 8 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint32(n), true
}

// indexSegment indexes the records of segment n from its scanned offset,
// up to its first torn, unwritten or incomplete record, reading their
// headers only: a record's content is checked against its hash when it is
// read, and before a Put counts on it. A later record of the same content
// replaces an earlier one (a Put that repaired it). b.mu is not held.
func (b *blobStore) indexSegment(n uint32) error {
	f, err := os.Open(b.segmentPath(n))
	if err != nil {
		return fmt.Errorf("store: opening blob segment: %w", err)
	}
	defer f.Close() //nolint:errcheck // read only
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: reading blob segment %d: %w", n, err)
	}
	b.mu.Lock()
	off := b.scanned[n]
	b.mu.Unlock()
	var hdr [packHeaderLen]byte
	found := map[[sha256.Size]byte]packLoc{}
	for off+packHeaderLen <= fi.Size() {
		if _, err := f.ReadAt(hdr[:], off); err != nil {
			return fmt.Errorf("store: reading blob segment %d: %w", n, err)
		}
		size, sum, ok := parsePackHeader(hdr)
		end := off + packHeaderLen + int64(size)
		if !ok || end > fi.Size() {
			break // unwritten, torn or still being written: the end for now
		}
		found[sum] = packLoc{seg: n, off: off + packHeaderLen, size: size}
		off = end
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for sum, loc := range found {
		if cur, ok := b.index[sum]; !ok || cur.seg <= loc.seg {
			b.index[sum] = loc
		}
	}
	b.scanned[n] = off
	return nil
}

// refresh indexes what other processes sharing the blob directory appended
// since the last look: new segments, and records added to those already
// seen. It runs when a blob is not found, before the answer is "absent".
func (b *blobStore) refresh() error {
	b.refreshMu.Lock()
	defer b.refreshMu.Unlock()
	entries, err := os.ReadDir(filepath.Join(b.dir, packsDir))
	if err != nil {
		return fmt.Errorf("store: reading blob directory: %w", err)
	}
	for _, e := range entries {
		n, ok := segmentNumber(e.Name())
		if !ok {
			continue
		}
		b.mu.Lock()
		own := b.own[n]
		b.mu.Unlock()
		if own {
			continue // indexed as it was written
		}
		if err := b.indexSegment(n); err != nil {
			return err
		}
	}
	return nil
}

func packHeader(data []byte, sum [sha256.Size]byte) [packHeaderLen]byte {
	var h [packHeaderLen]byte
	copy(h[:4], packMagic[:])
	binary.BigEndian.PutUint32(h[4:8], uint32(len(data)))
	copy(h[8:8+sha256.Size], sum[:])
	binary.BigEndian.PutUint32(h[8+sha256.Size:], crc32.Checksum(h[:8+sha256.Size], castagnoli))
	return h
}

func parsePackHeader(h [packHeaderLen]byte) (uint32, [sha256.Size]byte, bool) {
	var sum [sha256.Size]byte
	if [4]byte(h[:4]) != packMagic ||
		binary.BigEndian.Uint32(h[8+sha256.Size:]) != crc32.Checksum(h[:8+sha256.Size], castagnoli) {
		return 0, sum, false
	}
	size := binary.BigEndian.Uint32(h[4:8])
	if size > maxPackedBlob {
		return 0, sum, false
	}
	copy(sum[:], h[8:8+sha256.Size])
	return size, sum, true
}

func (b *blobStore) path(hash string) string { return filepath.Join(b.dir, hash[:2], hash) }

// Put stores data and returns its hash once it is durable.
func (b *blobStore) Put(ctx context.Context, data []byte) (string, error) {
	hs, err := b.PutAll(ctx, data)
	if err != nil {
		return "", err
	}
	return hs[0], nil
}

// PutAll stores every blob of data and returns their hashes once all are
// durable: the small ones share one append and one fsync.
func (b *blobStore) PutAll(ctx context.Context, data ...[]byte) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, d := range data {
		if len(d) > MaxBlobSize {
			return nil, fieldErr("blob", fmt.Sprintf("is larger than %d bytes", MaxBlobSize))
		}
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	hashes := make([]string, len(data))
	sums := make([][sha256.Size]byte, len(data))
	var pack []int
	var need uint64
	for i, d := range data {
		sums[i] = sha256.Sum256(d)
		hashes[i] = hex.EncodeToString(sums[i][:])
		if len(d) > maxPackedBlob {
			if err := b.putFile(hashes[i], sums[i], d); err != nil {
				return nil, err
			}
			continue
		}
		if slices.ContainsFunc(pack, func(j int) bool { return sums[j] == sums[i] }) {
			continue
		}
		if seq, ok := b.present(sums[i], false); ok {
			need = max(need, seq)
			continue
		}
		pack = append(pack, i)
	}
	if len(pack) > 0 {
		seq, err := b.appendRecords(data, sums, pack)
		if err != nil {
			return nil, err
		}
		need = max(need, seq)
	}
	if need > 0 {
		if err := b.sync(need); err != nil {
			return nil, err
		}
	}
	return hashes, nil
}

// putLogged stores blobs that a committed log entry carries ([PutBlobs])
// without an fsync: the log holds them until syncLogged, which a snapshot
// calls before the log behind it may be compacted. A copy already in this
// process's segments is not written again; one in a segment of an earlier
// run or of another process sharing the directory counts once read back,
// and syncLogged fsyncs its segment. A failed write poisons the writer, so
// that no snapshot lets the entry go: the store must be reopened, and the
// entry's replay writes the blobs again.
func (b *blobStore) putLogged(data [][]byte) error {
	sums := make([][sha256.Size]byte, len(data))
	var pack []int
	for i, d := range data {
		sums[i] = sha256.Sum256(d)
		if slices.ContainsFunc(pack, func(j int) bool { return sums[j] == sums[i] }) {
			continue
		}
		if _, ok := b.present(sums[i], true); ok {
			continue
		}
		pack = append(pack, i)
	}
	if len(pack) == 0 {
		return nil
	}
	if _, err := b.appendRecords(data, sums, pack); err != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.err == nil {
			b.err = fmt.Errorf("store: writing blobs of the log: %w", err)
		}
		return b.err
	}
	return nil
}

// writeErr returns the error that stops the writer (a failed write or
// fsync, or the store's close), or nil.
func (b *blobStore) writeErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// syncLogged makes every blob putLogged stored so far durable: the records
// appended to this process's segments and the other segments its copies
// were found in. It fails on a poisoned writer.
func (b *blobStore) syncLogged() error {
	b.mu.Lock()
	err, seq, foreign := b.err, b.written, b.foreign
	b.foreign = nil
	b.mu.Unlock()
	if err != nil {
		return err
	}
	for seg := range foreign {
		if err := b.syncSegment(seg); err != nil {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.foreign == nil {
				b.foreign = map[uint32]bool{}
			}
			maps.Copy(b.foreign, foreign) // tried again at the next call
			return err
		}
	}
	if seq == 0 {
		return nil
	}
	return b.sync(seq)
}

// syncSegment fsyncs segment n.
func (b *blobStore) syncSegment(n uint32) error {
	f, kept, err := b.reader(n)
	if err != nil {
		return fmt.Errorf("store: syncing blob segment: %w", err)
	}
	if !kept {
		defer f.Close() //nolint:errcheck // read only
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store: syncing blob segment: %w", err)
	}
	return nil
}

// present reports whether a packed copy of sum is stored and matches its
// hash (so a Put of damaged content writes it again), with its record's
// append number. A copy in a segment of an earlier run or of another
// process sharing the directory counts only once durable, since its writer
// may not have fsynced it yet: it is fsynced here or, for putLogged
// (logged, the log holding the blob meanwhile), its segment is noted for
// syncLogged.
func (b *blobStore) present(sum [sha256.Size]byte, logged bool) (uint64, bool) {
	b.mu.Lock()
	loc, ok := b.index[sum]
	own := b.own[loc.seg]
	b.mu.Unlock()
	if !ok {
		return 0, false
	}
	if _, err := b.readPacked(loc, sum, !own && !logged); err != nil {
		return 0, false
	}
	if !own && logged {
		b.mu.Lock()
		if b.foreign == nil {
			b.foreign = map[uint32]bool{}
		}
		b.foreign[loc.seg] = true
		b.mu.Unlock()
	}
	return loc.seq, true
}

// readPacked reads the blob at loc and checks it against sum; with sync,
// it fsyncs the segment too.
func (b *blobStore) readPacked(loc packLoc, sum [sha256.Size]byte, sync bool) ([]byte, error) {
	f, kept, err := b.reader(loc.seg)
	if err != nil {
		return nil, fmt.Errorf("store: reading blob: %w", err)
	}
	if !kept {
		defer f.Close() //nolint:errcheck // read only
	}
	data := make([]byte, loc.size)
	if _, err := f.ReadAt(data, loc.off); err != nil {
		return nil, fmt.Errorf("store: reading blob: %w", err)
	}
	if sha256.Sum256(data) != sum {
		return nil, fmt.Errorf("%w: blob %x does not match its hash", ErrCorrupt, sum)
	}
	if sync {
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("store: syncing blob segment: %w", err)
		}
	}
	return data, nil
}

// reader returns segment n open for reading, and whether the store keeps it
// open (otherwise the caller closes it). A kept file is closed only by
// close; a read racing that fails as a read from a closed file does.
func (b *blobStore) reader(n uint32) (*os.File, bool, error) {
	b.mu.Lock()
	f, ok := b.readers[n]
	b.mu.Unlock()
	if ok {
		return f, true, nil
	}
	f, err := os.Open(b.segmentPath(n))
	if err != nil {
		return nil, false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if cur, ok := b.readers[n]; ok {
		f.Close() //nolint:errcheck // read only; another reader kept its own
		return cur, true, nil
	}
	if b.closed || len(b.readers) >= maxReaders {
		return f, false, nil
	}
	if b.readers == nil {
		b.readers = map[uint32]*os.File{}
	}
	b.readers[n] = f
	return f, true, nil
}

// appendRecords appends the blobs data[i] for i in idx to the active
// segment in one write and returns the append number of the last one.
func (b *blobStore) appendRecords(data [][]byte, sums [][sha256.Size]byte, idx []int) (uint64, error) {
	n := 0
	for _, i := range idx {
		n += packHeaderLen + len(data[i])
	}
	buf := make([]byte, 0, n)
	for _, i := range idx {
		h := packHeader(data[i], sums[i])
		buf = append(append(buf, h[:]...), data[i]...)
	}
	b.mu.Lock()
	if b.needsSegment(n) {
		// Changing segments takes syncMu first, like an fsync does.
		b.mu.Unlock()
		b.syncMu.Lock()
		b.mu.Lock()
		var err error
		if b.needsSegment(n) {
			err = b.rotate()
		}
		b.syncMu.Unlock()
		if err != nil {
			b.mu.Unlock()
			return 0, err
		}
	}
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	if _, err := b.file.WriteAt(buf, b.size); err != nil {
		// What reached the file is a tail the next open ignores or a
		// record nobody was told about; later writes go to a new segment.
		b.full = true
		return 0, fmt.Errorf("store: writing blob: %w", err)
	}
	off := b.size
	for _, i := range idx {
		b.written++
		b.index[sums[i]] = packLoc{seg: b.active, off: off + packHeaderLen, size: uint32(len(data[i])), seq: b.written}
		off += packHeaderLen + int64(len(data[i]))
	}
	b.size = off
	return b.written, nil
}

// needsSegment reports whether n more bytes need a new segment. b.mu is
// held.
func (b *blobStore) needsSegment(n int) bool {
	return b.err == nil && (b.file == nil || b.full || b.size > 0 && b.size+int64(n) > b.segmentLimit)
}

// rotate makes everything appended so far durable, closes the active
// segment and starts a new one, whose name is durable before any record
// in it. b.syncMu and b.mu are held.
func (b *blobStore) rotate() error {
	if b.file != nil {
		if err := b.file.Sync(); err != nil {
			b.err = fmt.Errorf("store: syncing blob segment: %w", err)
			return b.err
		}
		storeMax(&b.synced, b.written)
		if err := b.file.Close(); err != nil {
			b.err = fmt.Errorf("store: closing blob segment: %w", err)
			return b.err
		}
		b.file = nil
	}
	// O_EXCL: a process sharing the directory that took the number first
	// keeps its segment, and this one takes the next free number.
	var f *os.File
	n := b.next
	for {
		var err error
		f, err = os.OpenFile(b.segmentPath(n), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || n-b.next >= 1000 {
			return fmt.Errorf("store: creating blob segment: %w", err)
		}
		n++
	}
	b.next = n + 1 // a failure below leaves an empty segment, skipped
	b.own[n] = true
	if err := syncDir(filepath.Join(b.dir, packsDir)); err != nil {
		_ = f.Close() // the directory sync error is the one to report
		return err
	}
	b.file, b.active, b.size, b.full = f, n, 0, false
	return nil
}

// sync returns once record seq is durable. The first waiter fsyncs the
// active segment for every record appended until then; those arriving
// meanwhile find their record covered, or fsync the next group.
func (b *blobStore) sync(seq uint64) error {
	if b.synced.Load() >= seq {
		return nil
	}
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	if b.synced.Load() >= seq {
		return nil
	}
	b.mu.Lock()
	if b.err != nil {
		defer b.mu.Unlock()
		return b.err
	}
	// Records of earlier segments were fsynced when they were closed; the
	// active file is not closed while syncMu is held.
	target, f := b.written, b.file
	b.mu.Unlock()
	if err := f.Sync(); err != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.err == nil {
			b.err = fmt.Errorf("store: syncing blob segment: %w", err)
		}
		return b.err
	}
	storeMax(&b.synced, target)
	return nil
}

func storeMax(v *atomic.Uint64, n uint64) {
	for {
		cur := v.Load()
		if cur >= n || v.CompareAndSwap(cur, n) {
			return
		}
	}
}

// putFile writes a large blob as its own file through a temporary file,
// fsync and rename, so it is either absent or complete.
func (b *blobStore) putFile(hash string, sum [sha256.Size]byte, data []byte) error {
	p := b.path(hash)
	if cur, err := os.ReadFile(p); err == nil && sha256.Sum256(cur) == sum {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("store: writing blob: %w", err)
	}
	f, err := os.CreateTemp(filepath.Join(b.dir, "tmp"), hash[:8]+"*")
	if err != nil {
		return fmt.Errorf("store: writing blob: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, p)
	}
	if werr != nil {
		_ = os.Remove(tmp) // best effort; the write error is what matters
		return fmt.Errorf("store: writing blob: %w", werr)
	}
	return syncDir(filepath.Dir(p))
}

func (b *blobStore) Get(ctx context.Context, hash string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sum, loc, ok, err := b.lookup(hash)
	if err != nil {
		return nil, err
	}
	if ok {
		return b.readPacked(loc, sum, false)
	}
	data, err := os.ReadFile(b.path(hash))
	if errors.Is(err, fs.ErrNotExist) {
		if loc, ok, err := b.refreshed(sum); err != nil || ok {
			if err != nil {
				return nil, err
			}
			return b.readPacked(loc, sum, false)
		}
		return nil, notFound("blob", hash)
	}
	if err != nil {
		return nil, fmt.Errorf("store: reading blob: %w", err)
	}
	if sha256.Sum256(data) != sum {
		return nil, fmt.Errorf("%w: blob %s does not match its hash", ErrCorrupt, hash)
	}
	return data, nil
}

func (b *blobStore) Has(ctx context.Context, hash string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	sum, _, ok, err := b.lookup(hash)
	if err != nil {
		return false, err
	}
	if ok {
		return true, nil
	}
	_, err = os.Stat(b.path(hash))
	if errors.Is(err, fs.ErrNotExist) {
		_, ok, err := b.refreshed(sum)
		return ok, err
	}
	if err != nil {
		return false, fmt.Errorf("store: reading blob: %w", err)
	}
	return true, nil
}

// lookup checks hash and finds it in the pack index: its digest, where it
// is packed and whether it is; ErrClosed once the store is closed.
func (b *blobStore) lookup(hash string) ([sha256.Size]byte, packLoc, bool, error) {
	var sum [sha256.Size]byte
	if !validHash(hash) {
		return sum, packLoc{}, false, fieldErr("hash", "is not a lower-case hex SHA-256")
	}
	if _, err := hex.Decode(sum[:], []byte(hash)); err != nil {
		return sum, packLoc{}, false, fieldErr("hash", "is not a lower-case hex SHA-256")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return sum, packLoc{}, false, ErrClosed
	}
	loc, ok := b.index[sum]
	return sum, loc, ok, nil
}

// refreshed refreshes the index (see refresh) and looks sum up again.
func (b *blobStore) refreshed(sum [sha256.Size]byte) (packLoc, bool, error) {
	if err := b.refresh(); err != nil {
		return packLoc{}, false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	loc, ok := b.index[sum]
	return loc, ok, nil
}

// close closes the active segment; later calls fail with ErrClosed.
func (b *blobStore) close() error {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	var err error
	if b.file != nil && b.err == nil {
		// What putLogged wrote is durable in the log too; syncing here
		// spares the next open a replay that writes it again.
		err = b.file.Sync()
	}
	b.closed, b.err = true, ErrClosed
	clear(b.index)
	for _, f := range b.readers {
		f.Close() //nolint:errcheck // read only
	}
	b.readers = nil
	if b.file == nil {
		return err
	}
	if cerr := b.file.Close(); err == nil {
		err = cerr
	}
	b.file = nil
	return err
}
