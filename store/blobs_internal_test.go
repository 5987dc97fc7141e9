package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func blobOf(i, size int) []byte {
	b := bytes.Repeat([]byte{byte(i)}, size)
	copy(b, fmt.Sprintf("blob %d", i))
	return b
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, packsDir, "*"+packSuffix))
	require.NoError(t, err)
	return m
}

// requireBlobs checks that every blob of want is served by b, verified.
func requireBlobs(t *testing.T, b *blobStore, want map[string][]byte) {
	t.Helper()
	for h, data := range want {
		got, err := b.Get(context.Background(), h)
		require.NoError(t, err, "blob %s", h)
		require.Equal(t, data, got)
		ok, err := b.Has(context.Background(), h)
		require.NoError(t, err)
		require.True(t, ok)
	}
}

func TestBlobsPutAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := newBlobStore(dir)
	require.NoError(t, err)
	defer func() { require.NoError(t, b.close()) }()
	small, again, large := blobOf(1, 1200), blobOf(2, 300), blobOf(3, maxPackedBlob+1)
	hs, err := b.PutAll(ctx, small, again, large, small)
	require.NoError(t, err)
	require.Len(t, hs, 4)
	for i, d := range [][]byte{small, again, large, small} {
		assert.Equal(t, fmt.Sprintf("%x", sha256.Sum256(d)), hs[i], "hash %d", i)
	}
	requireBlobs(t, b, map[string][]byte{hs[0]: small, hs[1]: again, hs[2]: large})
	// Small blobs share one segment, each once; a large one is a file.
	segs := segments(t, dir)
	require.Len(t, segs, 1)
	fi, err := os.Stat(segs[0])
	require.NoError(t, err)
	assert.Equal(t, int64(2*packHeaderLen+len(small)+len(again)), fi.Size())
	_, err = os.Stat(filepath.Join(dir, hs[2][:2], hs[2]))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, hs[0][:2], hs[0]))
	require.ErrorIs(t, err, os.ErrNotExist)

	hs2, err := b.PutAll(ctx)
	require.NoError(t, err)
	assert.Empty(t, hs2)
	_, err = b.PutAll(ctx, small, make([]byte, MaxBlobSize+1))
	require.ErrorIs(t, err, ErrInvalidInput)
}

// TestBlobsReopenAfterCrash: what a Put acknowledged is there after a
// restart, whatever a crash left at the end of the last segment; the torn
// tail is never appended to.
func TestBlobsReopenAfterCrash(t *testing.T) {
	t.Parallel()
	tails := []struct {
		name string
		tail func(last []byte) []byte
	}{
		{"header cut short", func(last []byte) []byte { return last[:packHeaderLen-5] }},
		{"blob cut short", func(last []byte) []byte { return last[:len(last)-7] }},
		{"zeros", func(last []byte) []byte { return make([]byte, 4096) }},
		{"header with a bad checksum", func(last []byte) []byte {
			c := bytes.Clone(last)
			c[6] ^= 0x40
			return c
		}},
	}
	for _, tc := range tails {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			b, err := newBlobStore(dir)
			require.NoError(t, err)
			want := map[string][]byte{}
			for i := range 5 {
				d := blobOf(i, 100*(i+1))
				h, err := b.Put(ctx, d)
				require.NoError(t, err)
				want[h] = d
			}
			// The crash: the process stops (no close) while a sixth
			// record was being appended.
			lost := blobOf(9, 700)
			h := packHeader(lost, sha256.Sum256(lost))
			f, err := os.OpenFile(segments(t, dir)[0], os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.Write(tc.tail(append(h[:], lost...)))
			require.NoError(t, err)
			require.NoError(t, f.Close())

			r, err := newBlobStore(dir)
			require.NoError(t, err)
			defer func() { require.NoError(t, r.close()) }()
			requireBlobs(t, r, want)
			ok, err := r.Has(ctx, fmt.Sprintf("%x", sha256.Sum256(lost)))
			require.NoError(t, err)
			assert.False(t, ok, "a record cut short is not a blob")
			// Later writes go to a new segment, never after the tail.
			h2, err := r.Put(ctx, lost)
			require.NoError(t, err)
			want[h2] = lost
			assert.Len(t, segments(t, dir), 2)
			require.NoError(t, b.close())
			again, err := newBlobStore(dir)
			require.NoError(t, err)
			defer func() { require.NoError(t, again.close()) }()
			requireBlobs(t, again, want)
		})
	}
}

// TestBlobsTornContent: a crash that left a complete header but not the
// content behind it (never acknowledged, so nothing refers to it) leaves a
// blob that is reported corrupt, never served, and that a Put of the same
// content writes again.
func TestBlobsTornContent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := newBlobStore(dir)
	require.NoError(t, err)
	kept, err := b.Put(ctx, blobOf(1, 100))
	require.NoError(t, err)
	torn := blobOf(2, 3000)
	h := packHeader(torn, sha256.Sum256(torn))
	rec := append(h[:], make([]byte, len(torn))...) // the pages of the content never reached the disk
	f, err := os.OpenFile(segments(t, dir)[0], os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(rec)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, b.close())

	r, err := newBlobStore(dir)
	require.NoError(t, err)
	defer func() { require.NoError(t, r.close()) }()
	requireBlobs(t, r, map[string][]byte{kept: blobOf(1, 100)})
	th := fmt.Sprintf("%x", sha256.Sum256(torn))
	_, err = r.Get(ctx, th)
	require.ErrorIs(t, err, ErrCorrupt)
	_, err = r.Put(ctx, torn)
	require.NoError(t, err)
	requireBlobs(t, r, map[string][]byte{kept: blobOf(1, 100), th: torn})
}

// TestBlobsCorruptRecord: a packed blob that no longer matches its hash is
// reported, never served; putting the content again repairs it, also
// across a restart.
func TestBlobsCorruptRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := newBlobStore(dir)
	require.NoError(t, err)
	first, doc := blobOf(1, 500), blobOf(2, 800)
	hs, err := b.PutAll(ctx, first, doc)
	require.NoError(t, err)
	seg := segments(t, dir)[0]
	raw, err := os.ReadFile(seg)
	require.NoError(t, err)
	at := bytes.Index(raw, doc)
	require.Positive(t, at)
	raw[at+100] ^= 1
	require.NoError(t, os.WriteFile(seg, raw, 0o600))

	_, err = b.Get(ctx, hs[1])
	require.ErrorIs(t, err, ErrCorrupt)
	require.NoError(t, b.close())
	b, err = newBlobStore(dir)
	require.NoError(t, err)
	_, err = b.Get(ctx, hs[1])
	require.ErrorIs(t, err, ErrCorrupt, "after a restart too")
	requireBlobs(t, b, map[string][]byte{hs[0]: first})

	h, err := b.Put(ctx, doc)
	require.NoError(t, err)
	require.Equal(t, hs[1], h)
	requireBlobs(t, b, map[string][]byte{hs[0]: first, hs[1]: doc})
	require.NoError(t, b.close())
	b, err = newBlobStore(dir)
	require.NoError(t, err)
	defer func() { require.NoError(t, b.close()) }()
	requireBlobs(t, b, map[string][]byte{hs[0]: first, hs[1]: doc})
}

// TestBlobsConcurrentRotation: concurrent writers sharing fsyncs across
// segment changes; every acknowledged blob is there after a restart.
func TestBlobsConcurrentRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := newBlobStore(dir)
	require.NoError(t, err)
	b.segmentLimit = 8 << 10
	const writers, each = 8, 25
	var mu sync.Mutex
	want := map[string][]byte{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				k := w*each + i
				batch := [][]byte{blobOf(k, 200+k), blobOf(k+1000, 900), blobOf(k%5+5000, 64)}
				hs, err := b.PutAll(ctx, batch...)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				for j, h := range hs {
					want[h] = batch[j]
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.GreaterOrEqual(t, b.synced.Load(), b.written, "every append is durable")
	assert.Greater(t, len(segments(t, dir)), 10, "segments rotated")
	requireBlobs(t, b, want)
	require.NoError(t, b.close())
	r, err := newBlobStore(dir)
	require.NoError(t, err)
	defer func() { require.NoError(t, r.close()) }()
	requireBlobs(t, r, want)
}

// TestBlobsSharedDirectory: two stores on one blob directory (cluster nodes
// sharing it) never write the same segment, and each finds what the other
// appended, also to a segment it had already read.
func TestBlobsSharedDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a, err := newBlobStore(dir)
	require.NoError(t, err)
	defer func() { require.NoError(t, a.close()) }()
	bs, err := newBlobStore(dir)
	require.NoError(t, err)
	defer func() { require.NoError(t, bs.close()) }()

	x, err := a.Put(ctx, blobOf(1, 500))
	require.NoError(t, err)
	requireBlobs(t, bs, map[string][]byte{x: blobOf(1, 500)})
	// The same content is not written again by the other store.
	again, err := bs.Put(ctx, blobOf(1, 500))
	require.NoError(t, err)
	require.Equal(t, x, again)
	assert.Len(t, segments(t, dir), 1)

	y, err := bs.Put(ctx, blobOf(2, 700))
	require.NoError(t, err)
	assert.Len(t, segments(t, dir), 2, "the second store took the next segment")
	z, err := a.Put(ctx, blobOf(3, 900))
	require.NoError(t, err)
	ok, err := bs.Has(ctx, z)
	require.NoError(t, err)
	assert.True(t, ok, "a record appended to a segment already read")
	requireBlobs(t, a, map[string][]byte{x: blobOf(1, 500), y: blobOf(2, 700), z: blobOf(3, 900)})
	requireBlobs(t, bs, map[string][]byte{x: blobOf(1, 500), y: blobOf(2, 700), z: blobOf(3, 900)})
	_, err = bs.Get(ctx, fmt.Sprintf("%x", sha256.Sum256([]byte("absent"))))
	require.ErrorIs(t, err, ErrNotFound)
}

// TestBlobsFiles: blobs stored as files (large ones, and those written
// before pack segments) are served and verified.
func TestBlobsFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	old := []byte("a blob from a store written before pack segments")
	h := fmt.Sprintf("%x", sha256.Sum256(old))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, h[:2]), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, h[:2], h), old, 0o600))
	b, err := newBlobStore(dir)
	require.NoError(t, err)
	requireBlobs(t, b, map[string][]byte{h: old})
	require.NoError(t, os.WriteFile(filepath.Join(dir, h[:2], h), []byte("changed"), 0o600))
	_, err = b.Get(ctx, h)
	require.ErrorIs(t, err, ErrCorrupt)

	require.NoError(t, b.close())
	_, err = b.Get(ctx, h)
	require.ErrorIs(t, err, ErrClosed)
	_, err = b.Put(ctx, old)
	require.ErrorIs(t, err, ErrClosed)
	_, err = b.Has(ctx, h)
	require.ErrorIs(t, err, ErrClosed)
}

func TestSegmentNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want uint32
		ok   bool
	}{
		{segmentName(1), 1, true},
		{segmentName(12345678), 12345678, true},
		{"00000000.pack", 0, false},
		{"1.pack", 0, false},
		{"0000000x.pack", 0, false},
		{"00000001.pack.tmp", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, ok := segmentNumber(tc.name)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, n)
		})
	}
}

// TestBlobsReaders: reads keep at most maxReaders segments open, serve
// blobs from segments past that bound as well, and fail with ErrClosed once
// the store is closed.
func TestBlobsReaders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, err := newBlobStore(t.TempDir())
	require.NoError(t, err)
	b.segmentLimit = 1 // every append starts a segment
	want := map[string][]byte{}
	var first string
	for i := range maxReaders + 8 {
		data := blobOf(i, 100+i)
		h, err := b.Put(ctx, data)
		require.NoError(t, err)
		want[h] = data
		if i == 0 {
			first = h
		}
	}
	requireBlobs(t, b, want)
	requireBlobs(t, b, want) // again, through kept and unkept readers alike
	b.mu.Lock()
	kept := len(b.readers)
	b.mu.Unlock()
	assert.Equal(t, maxReaders, kept)
	require.NoError(t, b.close())
	_, err = b.Get(ctx, first)
	require.ErrorIs(t, err, ErrClosed)
	assert.Nil(t, b.readers)
}

// TestSnapshotRefusedOnPoisonedBlobs: while the blobs of applied entries
// cannot be made durable, no snapshot is taken, so the log that holds them
// is not compacted, and no batch carrying blobs is proposed.
func TestSnapshotRefusedOnPoisonedBlobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n, err := Open(ctx, Config{Dir: t.TempDir(), TrailingLogs: 1})
	require.NoError(t, err)
	defer func() { require.NoError(t, n.Close()) }()
	_, err = n.Apply(ctx, &Batch{Commands: []Command{PutBlobs{Blobs: [][]byte{[]byte("a blob")}}}})
	require.NoError(t, err)
	firstBefore, err := n.FirstLogIndex()
	require.NoError(t, err)
	bad := errors.New("disk gone")
	n.blobs.mu.Lock()
	n.blobs.err = bad
	n.blobs.mu.Unlock()
	assert.ErrorContains(t, n.Compact(ctx), bad.Error())
	first, err := n.FirstLogIndex()
	require.NoError(t, err)
	assert.Equal(t, firstBefore, first, "the log is kept")
	_, err = n.Apply(ctx, &Batch{Commands: []Command{PutBlobs{Blobs: [][]byte{[]byte("another blob")}}}})
	assert.ErrorIs(t, err, bad, "no new blob is committed that could not be written")
	assert.ErrorIs(t, n.Health(), bad, "the node reports it")
	_, err = n.Apply(ctx, &Batch{Commands: []Command{SealAudit{Max: 1}}})
	assert.NoError(t, err, "batches without blobs still commit")
	n.blobs.mu.Lock()
	n.blobs.err = nil
	n.blobs.mu.Unlock()
	require.NoError(t, n.Compact(ctx))
	require.NoError(t, n.Health())
}
